#!/usr/bin/env bash
# One import runner at a time per job across nodes (issue 13; server/import_job.h, schema step
# 11, docs/api.md "Import jobs"): two `provisor serve` nodes share one PostgreSQL; a delivery
# note of production-shaped rows uploaded once with curl is worked by exactly one node (the
# job's lease; the other node applies nothing and nothing is rolled back); that node is killed
# -9 mid-job and the other takes the job over only once the lease has expired, at the
# checkpoint, and finishes it: each row once, the counts complete.
# Covers src/server/import_job.c (the lease), src/store/store_imports.c, src/server/daemon.c
# (the upload starts its node's runner at once) and src/store/migrations.c (step 11).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/pg_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"

N=${PV_IMPORT_LEASE_ROWS:-40000}
pg_start
D="$T/data"
export PROVISOR_DATA="$D"
node_start() { # NAME: sets <NAME>_ADMIN, <NAME>_PID
  api_start "$1" --data-dir "$D" --db "$PG_URL" --admin-max-body-bytes 8M
  eval "${1}_ADMIN=$ADMIN_PORT ${1}_PID=$SERVE_PID"
}
node_start A
node_start B
export PROVISOR_TOKEN=$TOKEN
export PROVISOR_ADMIN_URL="http://127.0.0.1:$A_ADMIN"
for a in acme-telecom bluefield-gmbh; do expect_status 0 "$PV_BIN" account create "$a"; done

# N rows as a distributor's delivery note has them: colon MACs, two models, two accounts,
# serials; one short MAC and one MAC given twice among them.
python3 - "$N" >"$T/devices.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("MAC,Model,Account,Serial")
print("# delivery 2026-12-07, pallet 9")
for i in range(n):
    if i == 500:
        print("00:0e:08:12:34,CP-8841-3PCC,acme-telecom,FCH9000500")
        continue
    mac = 0x000e08000000 + (5 if i == n - 10 else i)
    m = ":".join("%02x" % ((mac >> s) & 0xff) for s in range(40, -8, -8))
    model = "CP-8841-3PCC" if i % 3 else "SPA504G"
    acct = "acme-telecom" if i % 2 else "bluefield-gmbh"
    print("%s,%s,%s,FCH%07d" % (m, model, acct, i))
PY

# 1. the upload to node A: 202, the job runs on the server
API="http://127.0.0.1:$A_ADMIN/api/v1"
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: text/csv' --data-binary "@$T/devices.csv" "$API/import-jobs?file=pallet-9.csv")
BODY=$(cat "$T/body")
[ "$STATUS" = 202 ] || fail "upload: $STATUS $(cat "$T/body")"
ok
JOB=$(sed 's/^{"id":\([0-9]*\),.*/\1/' "$T/body")
expect_contains "$BODY" "\"rows\":$N," "the rows counted"

# 2. one node holds the job and works it: the other node's runner applies nothing meanwhile
progressed() { [ "$(psql_val "SELECT done_rows FROM import_jobs WHERE id = $JOB")" -ge 2000 ]; }
wait_for 20 "the first slices committed" progressed
RUNNER=$(psql_val "SELECT runner FROM import_jobs WHERE id = $JOB")
case "$RUNNER" in
  *":$A_PID") X=A OTHER=B ;;
  *":$B_PID") X=B OTHER=A ;;
  *) fail "runner '$RUNNER' is neither node (A $A_PID, B $B_PID)" ;;
esac
ok
echo "the job runs on node $X ($RUNNER)" >&2
eval "XPID=\$${X}_PID"
# 3. kill -9 that node mid-job; the lease it held stays until it expires
kill -9 "$XPID"
wait "$XPID" 2>/dev/null || true
KILLED_AT=$(date +%s)
IFS='|' read -r at state until <<<"$(psql_val "SELECT next_line, state, lease_until FROM import_jobs WHERE id = $JOB")"
echo "killed at line $at ($state), lease until $until, now $KILLED_AT" >&2
[ "$state" = running ] || fail "the job finished before the kill ($N rows were too few on this machine)"
ok
expect_contains "$(cat "$T/$X.log")" "event=import.leased job=$JOB runner=$RUNNER line=0" "$X took the new job"
if grep -q "event=import.leased job=$JOB" "$T/$OTHER.log"; then
  fail "node $OTHER took the job while $X held it: $(grep 'event=import' "$T/$OTHER.log")"
fi
ok

# 4. the other node takes it over after the lease expired, at the checkpoint, and finishes
SERVE_PID=$(eval "echo \$${OTHER}_PID")
wait_log "$T/$OTHER.log" "event=import.leased job=$JOB " 40
line=$(grep -m1 "event=import.leased job=$JOB " "$T/$OTHER.log")
expect_contains "$line" "line=$at" "taken over at the checkpoint"
expect_contains "$(cat "$T/$OTHER.log")" "event=import.resumed job=$JOB line=$at" "resumed"
took=$(python3 -c 'import sys, datetime as d
ts = sys.argv[1].split()[0][3:]
print(int(d.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=d.timezone.utc).timestamp()))' "$line")
[ "$took" -gt "$until" ] || fail "taken over at $took, before the lease ran out ($until)"
ok
echo "taken over $((took - KILLED_AT)) s after the kill (lease until $until)" >&2
eval "API=http://127.0.0.1:\$${OTHER}_ADMIN/api/v1"
finished() { call GET "/import-jobs/$JOB"; [ "$(jq_py 'j["state"]')" = done ]; }
wait_for 40 "the job finished on node $OTHER" finished
expect_eq "$(jq_py 'j["done"], j["errors"], j["created"] + j["updated"] + j["unchanged"]')" \
  "($N, 2, $((N - 2)))" "counts: every row once, two errors"
expect_eq "$(psql_val "SELECT count(*), count(DISTINCT mac) FROM devices")" "$((N - 2))|$((N - 2))" \
  "each device once"
line=$(grep "event=import.finished job=$JOB " "$T/$OTHER.log")
expect_contains "$line" "errors=2" "node $OTHER finished it"
# nobody repeated anyone's slice: no slice rolled back on either node
for n in A B; do
  if grep -q "event=import.slice_failed" "$T/$n.log"; then
    fail "node $n: $(grep 'event=import.slice_failed' "$T/$n.log" | head -3)"
  fi
  ok
done
expect_call 200 GET "/audit?action=device.import_job.finished"
expect_contains "$BODY" "\"subject\":\"import:$JOB\"" "the finished job audited once"
expect_eq "$(jq_py 'len(j["items"])')" 1 "one finished entry"
done_ok
