#!/usr/bin/env bash
# CSV imports run by the server (issue 13; server/import_job.h, docs/api.md "Import jobs"):
# a file of production-shaped rows with bad lines uploaded once with curl, the job applied by
# the server while nobody waits, a second upload refused while it runs, the server killed -9
# mid-import and started again: the job resumes at its checkpoint and finishes; each device
# once, the error report in line order, the audit names the uploader; a file over the admin
# listener's body bound refused 413, a file that is no import 422, a viewer refused 403.
# Covers src/server/api_import_jobs.c, import_job.c, import_apply.c (the rows, shared with
# POST /devices:import) and src/store/store_imports.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"

export PROVISOR_DATA="$T/data"
N=${PV_IMPORT_JOB_ROWS:-120000}
api_start first --admin-max-body-bytes 8M
for a in acme-telecom bluefield-gmbh; do "$PV_BIN" account create "$a" >/dev/null; done
printf '%s\n' 'a long password here' | "$PV_BIN" user create ops --role operator --password-stdin >/dev/null
token_of() { "$PV_BIN" token create "$1" --role "$2" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'; }
OPS=$(token_of ops-deploy operator)
VIEW=$(token_of wall viewer)

# N rows as a distributor's delivery note has them: colon MACs, two models, two accounts,
# serials; bad rows spread over the file: a short MAC, an unknown model, an unknown account,
# a MAC given twice (the second is refused), a quoted field with a comma, a comment.
python3 - "$N" >"$T/devices.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("MAC,Model,Account,Serial")
print("# delivery 2026-12-07, pallet 4")
bad = {1000: "00:0e:08:12:34,CP-8841-3PCC,acme-telecom,FCH0001",
       7000: "00:0e:08:ab:00:01,CP-9999-XXX,acme-telecom,FCH0002",
       15000: "00:0e:08:ab:00:02,SPA504G,nobody-inc,FCH0003",
       22000: "00:0e:08:00:00:05,SPA504G,acme-telecom,FCH0004"}
for i in range(n):
    if i in bad:
        print(bad[i])
        continue
    mac = 0x000e08000000 + i
    m = ":".join("%02x" % ((mac >> s) & 0xff) for s in range(40, -8, -8))
    model = "CP-8841-3PCC" if i % 3 else "SPA504G"
    acct = "acme-telecom" if i % 2 else "bluefield-gmbh"
    serial = '"FCH%07d, rack 2"' % i if i == 12345 else "FCH%07d" % i
    print("%s,%s,%s,%s" % (m, model, acct, serial))
PY
upload() { # upload TOKEN FILE NAME → status in STATUS, body in $T/body
  STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
    -H 'Content-Type: text/csv' --data-binary "@$2" "$API/import-jobs?file=$3")
  BODY=$(cat "$T/body")
}

# 1. refusals: a viewer (403), a file that is no import (422), one over the bound (413)
upload "$VIEW" "$T/devices.csv" devices.csv
expect_eq "$STATUS" 403 "a viewer uploads"
printf 'hello,world\n1,2\n' >"$T/notcsv.csv"
upload "$OPS" "$T/notcsv.csv" notcsv.csv
expect_eq "$STATUS" 422 "a file without the import's header"
expect_contains "$BODY" "hello" "the header's problem is named"
head -c 9000000 /dev/zero | tr '\0' 'a' >"$T/big.csv"
upload "$OPS" "$T/big.csv" big.csv
expect_eq "$STATUS" 413 "a file over [admin] max_body_bytes (8M)"

# 2. the upload: 202 at once, the job runs on the server (read with bash and sqlite3 alone
# until the kill below: a python per poll would let the job finish first)
upload "$OPS" "$T/devices.csv" "delivery-4.csv"
expect_eq "$STATUS" 202 "upload: $BODY"
JOB=$(sed 's/^{"id":\([0-9]*\),.*/\1/' "$T/body")
expect_contains "$BODY" '"file_name":"delivery-4.csv","actor":"token:ops-deploy","state":"running"' "the job as created"
expect_contains "$BODY" "\"rows\":$N," "its rows counted (the comment line is none)"
# one import at a time: a second upload while it runs is refused, naming the job
upload "$OPS" "$T/devices.csv" again.csv
expect_eq "$STATUS" 409 "a second upload while one runs: $BODY $(sqlite3 "$PROVISOR_DATA/provisor.db" "SELECT id, state, done_rows FROM import_jobs")"
expect_contains "$BODY" "import job $JOB is running" "409 names the job"

# 3. kill -9 once some slices committed, start again: the job resumes where it stood
DB="$PROVISOR_DATA/provisor.db"
progressed() { [ "$(sqlite3 "$DB" "SELECT done_rows FROM import_jobs WHERE id = $JOB")" -ge 1000 ]; }
wait_for 10 "the first slices committed" progressed
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
at=$(sqlite3 "$DB" "SELECT next_line, state FROM import_jobs WHERE id = $JOB")
echo "killed at: $at" >&2
serve_start second --tftp off --https off --admin-max-body-bytes 8M
finished() { call GET "/import-jobs/$JOB"; [ "$(jq_py 'j["state"]')" = done ]; }
wait_for 60 "the job finished after the restart" finished
case "$at" in
  *"|running") expect_contains "$(cat "$T/second.log")" "event=import.resumed job=$JOB line=${at%|*}" "resumed at its checkpoint" ;;
  *) echo "note: the job finished before the kill; the resume was not exercised" >&2 ;;
esac
expect_eq "$(jq_py 'j["errors"], j["done"], j["created"] + j["updated"] + j["unchanged"]')" \
  "(4, $N, $((N - 4)))" "counts: every row once, four errors"
expect_eq "$(sqlite3 "$PROVISOR_DATA/provisor.db" "SELECT count(*), count(DISTINCT mac) FROM devices")" \
  "$((N - 4))|$((N - 4))" "each device once"
expect_eq "$(sqlite3 "$PROVISOR_DATA/provisor.db" "SELECT serial FROM devices WHERE mac = '000e08003039'")" \
  "FCH0012345, rack 2" "a quoted field with a comma"

# 4. the error report: CSV in line order, each with its MAC and reason
STATUS=$(curl -sS -D "$T/headers" -o "$T/errors.csv" -w '%{http_code}' -H "Authorization: Bearer $VIEW" \
  "$API/import-jobs/$JOB/errors")
expect_eq "$STATUS" 200 "the report (a viewer reads it)"
expect_contains "$(cat "$T/headers")" "attachment; filename=\"import-$JOB-errors.csv\"" "a download"
python3 - "$T/errors.csv" <<'PY' || fail "error report: $(cat "$T/errors.csv")"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0] == ["line", "mac", "reason"], rows[0]
lines = [int(r[0]) for r in rows[1:]]
assert lines == [1003, 7003, 15003, 22003], lines
assert rows[1][1] == "00:0e:08:12:34" and rows[1][2].startswith("mac: "), rows[1]
assert "unknown model 'CP-9999-XXX'" in rows[2][2], rows[2]
assert "no account named 'nobody-inc'" in rows[3][2], rows[3]
assert "already on line 8" in rows[4][2], rows[4]
PY
ok
expect_call 200 GET "/import-jobs/$JOB"
expect_eq "$(jq_py '[e["line"] for e in j["first_errors"]]')" "[1003, 7003, 15003, 22003]" "first errors"
expect_call 200 GET "/import-jobs?limit=5"
expect_eq "$(jq_py 'j["items"][0]["id"], j["items"][0]["state"]')" "($JOB, 'done')" "listed"

# 5. the audit: started and finished, by the uploader
expect_call 200 GET "/audit?action=device.import_job."
expect_eq "$(jq_py 'sorted((e["action"], e["actor"]) for e in j["items"] if e["subject"] == "import:'"$JOB"'")')" \
  "[('device.import_job.finished', 'token:ops-deploy'), ('device.import_job.started', 'token:ops-deploy')]" "audit"

# 6. the same file again: a new job, nothing changes
upload "$OPS" "$T/devices.csv" delivery-4.csv
expect_eq "$STATUS" 202 "the same file again"
JOB2=$(jq_py 'j["id"]')
finished2() { call GET "/import-jobs/$JOB2"; [ "$(jq_py 'j["state"]')" = done ]; }
wait_for 30 "the second job finished" finished2
expect_eq "$(jq_py 'j["created"], j["updated"], j["unchanged"], j["errors"]')" "(0, 0, $((N - 4)), 4)" "a re-run changes nothing"
expect_status 0 "$PV_BIN" db check
done_ok
