#!/usr/bin/env bash
# Bulk import (issue 4 acceptance): 100 000 devices from CSV through the admin
# API, timed; kill -9 of the server in the middle of an import, restart,
# import again: `provisor db check` passes and each device is there once.
# Covers src/server/api_import.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"

export PROVISOR_DATA="$T/data"
N=${PV_IMPORT_ROWS:-100000}
api_start first
"$PV_BIN" account create acme >/dev/null

python3 - "$N" >"$T/devices.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("MAC,model,account,serial")
for i in range(n):
    print("%012x,SPA504G,acme,SN%06d" % (0x0e0800000000 + i, i))
PY
# the same devices with a bad row and a new model for the first 10: for the re-run
{ head -1 "$T/devices.csv"; echo 'zz:zz,SPA504G,acme,'; echo '000e08ffffff,CP-8841-3PCC,nobody,'
  sed -n '2,11p' "$T/devices.csv" | sed 's/SPA504G/SPA525G2/'; } >"$T/changes.csv"

# 1. the first import, killed with -9 once some batches have committed
"$PV_BIN" device import "$T/devices.csv" >"$T/import1.out" 2>&1 &
IMPORT_PID=$!
committed() { [ "$(sqlite3 "$PROVISOR_DATA/provisor.db" "SELECT count(*) FROM devices" 2>/dev/null || echo 0)" -ge 5000 ]; }
wait_for 4 "the first batches committed" committed
kill -9 "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
rc=0; wait "$IMPORT_PID" || rc=$?
killed_at=$(sqlite3 "$PROVISOR_DATA/provisor.db" "SELECT count(*) FROM devices")
[ "$killed_at" -lt "$N" ] || fail "the import finished before the kill ($killed_at rows)"; ok
expect_eq "$rc" 1 "the interrupted import fails"
expect_contains "$(cat "$T/import1.out")" "run the same command again to resume" "resume hint"
expect_eq "$((killed_at % 1000))" 0 "whole batches only ($killed_at rows)"

# 2. restart, import again: it resumes at the checkpoint
serve_start second --tftp off --https off
start=$(date +%s.%N)
"$PV_BIN" device import "$T/devices.csv" >"$T/import2.out"
end=$(date +%s.%N)
out=$(cat "$T/import2.out")
expect_contains "$out" "created $((N - killed_at)), updated 0, unchanged 0, skipped $killed_at" "resumed"
expect_status 0 "$PV_BIN" db check
expect_eq "$(sqlite3 "$PROVISOR_DATA/provisor.db" "SELECT count(*), count(DISTINCT mac) FROM devices")" "$N|$N" "each device once"

# 3. the whole file again from the start: nothing changes; then the timed full run
"$PV_BIN" device import --restart --json "$T/devices.csv" >"$T/import3.json"
expect_eq "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["created"], j["updated"], j["unchanged"], j["errors_count"])' "$T/import3.json")" "0 0 $N 0" "idempotent re-run"
sqlite3 "$PROVISOR_DATA/provisor.db" "DELETE FROM devices"
start=$(date +%s.%N)
"$PV_BIN" device import --restart "$T/devices.csv" >"$T/import4.out"
end=$(date +%s.%N)
expect_contains "$(cat "$T/import4.out")" "created $N," "full import"
echo "import of $N devices: $(python3 -c "print(round($end - $start, 2))") s" >&2
# The console's search (issue 13): one page of the devices under a MAC prefix among all of
# them, one index range; well under a second even on a loaded machine.
t=$(curl -sS -o "$T/search.json" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" \
  "$API/devices?mac_prefix=0e08:0001:2&limit=50")
expect_eq "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(len(j["items"]), j["items"][0]["mac"])' "$T/search.json")" \
  "50 0e0800012000" "search by MAC prefix"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)" "$t" || fail "search took $t s among $N devices"; ok
echo "search by MAC prefix among $N devices: $t s" >&2

# 4. errors with line numbers, updates counted, exit 1
expect_status 1 "$PV_BIN" device import "$T/changes.csv"
out=$(cat "$T/.out")
expect_contains "$out" "created 0, updated 10, unchanged 0" "updates"
expect_contains "$out" "line 2: mac: MAC address 'zz:zz': 'z' at column 1 is not a hex digit" "bad MAC line"
expect_contains "$out" "line 3: account: no account named 'nobody'" "unknown account line"
expect_eq "$(sqlite3 "$PROVISOR_DATA/provisor.db" "SELECT model FROM devices WHERE mac='0e0800000009'")" SPA525G2 "updated row"
expect_status 1 "$PV_BIN" device import /dev/null
expect_contains "$(cat "$T/.err")" "header row" "empty file"
printf 'MAC,modle\n' >"$T/bad.csv"
expect_status 1 "$PV_BIN" device import "$T/bad.csv"
expect_contains "$(cat "$T/.err")" "header column 2 'modle'" "misspelt column"
# A NUL or a control character in a field: the row is refused with the column named (it used to
# be cut at the NUL without a word); the rows around it are imported.
printf 'MAC,model\n0e08aaaa0101,CP-8841\0-3PCC\n0e08aaaa0102,SPA\001\n0e08aaaa0103,SPA504G\n' >"$T/ctl.csv"
expect_status 1 "$PV_BIN" device import "$T/ctl.csv"
out=$(cat "$T/.out")
expect_contains "$out" "line 2: row: column model: byte 8 is a control character (U+0000)" "NUL named"
expect_contains "$out" "line 3: row: column model: byte 4 is a control character (U+0001)" "U+0001 named"
expect_eq "$("$PV_BIN" device show 0e08aaaa0103 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["model"])')" SPA504G "the good row imported"
expect_status 1 "$PV_BIN" device show 0e08aaaa0101
expect_status 0 "$PV_BIN" db check
serve_stop
done_ok
