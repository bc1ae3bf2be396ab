#!/usr/bin/env bash
# An operator's day without surprises (issue 13 item 3), through the command line: a bulk
# import refuses unknown models (the table extended by [provisioning] known_models), reports a
# MAC given twice in one file, keeps its errors when run again (resumed or --restart) and lists
# them in line order; messages name the command and the thing once; a malformed MAC says so;
# binding code ids are never handed out twice; a resync that reaches nobody says why.
# Covers src/server/api_import.c, models.c, src/cli/cmd_device.c (import), cli_api.c and
# cli_io.c (messages), api_devices.c (path MAC), store migration step 3 (code ids).
# Also covers src/server/param_check.c (a placeholder refused at write time, the dry run).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"

export PROVISOR_DATA="$T/data"
serve_ports
serve_start run --tftp off --https off --provisioning-known-models 'ACME-PHONE-1, ACME-PHONE-2'
export PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
P=$PV_BIN
expect_status 0 "$P" account create acme

# --- import: the sample file of docs/api.md, with mistakes
cat >"$T/devices.csv" <<'CSV'
MAC,model,account,serial
00:0e:08:00:00:01,SPA504G,acme,SN0001
000e08000002,CP-8841-3PCC,acme,
000e08000003,SPA5O4G,acme,
000e08000004,ACME-PHONE-2,acme,
000e08000001,CP-8841-3PCC,acme,
000e08000005,SPA504G,nobody,
zz,SPA504G,acme,
CSV
expect_status 1 "$P" device import "$T/devices.csv" --batch 2
out=$(cat "$T/.out")
expect_contains "$out" "created 3, updated 0" "the good rows"
expect_contains "$out" "errors 4" "four errors"
expect_contains "$out" "line 4: model: unknown model 'SPA5O4G'" "unknown model refused"
expect_contains "$out" "[provisioning] known_models" "how to add one"
expect_contains "$out" "line 6: mac: MAC 000e08000001 is already on line 2; this row is skipped" "duplicate MAC"
expect_eq "$(echo "$out" | sed -n 's/^  line \([0-9]*\):.*/\1/p' | tr '\n' ' ')" "4 6 7 8 " "errors in line order"
expect_eq "$("$P" device show 000e08000001 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["model"])')" \
  SPA504G "the first row of a duplicate wins, every time"
# run again: everything was committed, the errors are still reported
expect_status 1 "$P" device import "$T/devices.csv"
out=$(cat "$T/.out")
expect_contains "$out" "errors 4" "errors kept across a re-run"
expect_eq "$(echo "$out" | sed -n 's/^  line \([0-9]*\):.*/\1/p' | tr '\n' ' ')" "4 6 7 8 " "same errors, same order"
expect_status 1 "$P" device import "$T/devices.csv" --restart
expect_contains "$(cat "$T/.out")" "errors 4" "errors kept across --restart"
expect_eq "$("$P" device show 000e08000001 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["model"])')" \
  SPA504G "--restart does not flip the duplicate"

# --- parameters: the dry run says what an edit would do; the edit itself is refused with the reason
expect_status 0 "$P" params set account:acme 'Station_Name=desk-{{mac}}' --dry-run
expect_eq "$(cat "$T/.out")" "dry run: 3 devices change, 0 would fail to render" "a dry run that renders"
expect_status 1 "$P" params set global 'Bogus_={{nope}}' --dry-run
expect_contains "$(cat "$T/.out")" "dry run: 3 devices change, 3 would fail to render (first: device 000e08000001: Bogus_: unknown placeholder {{nope}}" "a dry run that fails"
expect_status 1 "$P" params set global 'Bogus_={{nope}}'
expect_contains "$(cat "$T/.err")" "provisor: params set: 3 of 3 devices would fail to render (first: device 000e08000001: Bogus_: unknown placeholder {{nope}}" "refused with the reason"
expect_contains "$(cat "$T/.err")" "(HTTP 422)" "422"
expect_status 1 "$P" params show global
expect_contains "$(cat "$T/.err")" "(HTTP 404)" "nothing was written"

# --- search by MAC prefix (keyset pages over the primary key)
expect_eq "$("$P" device list --mac-prefix 00:0E:08:00:00:0 --json | python3 -c 'import json,sys; print(" ".join(d["mac"] for d in json.load(sys.stdin)))')" \
  "000e08000001 000e08000002 000e08000004" "devices by MAC prefix, any spelling"
expect_eq "$("$P" device list --mac-prefix 000e08000002 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 1 "a whole MAC"
expect_status 1 "$P" device list --mac-prefix 000e0z
expect_contains "$(cat "$T/.err")" "MAC prefix '000e0z': up to 12 hex digits" "a bad prefix says why"

# --- messages: the command and the thing, once
expect_status 1 "$P" device import "$T/missing.csv"
expect_eq "$(cat "$T/.err")" "provisor: device import: $T/missing.csv: No such file or directory" "missing file"
expect_status 2 "$P" account create
expect_eq "$(cat "$T/.err")" "provisor: account create: usage: create NAME; see --help" "usage names the command"
expect_status 2 "$P" account list extra
expect_eq "$(cat "$T/.err")" "provisor: account list: takes no arguments; see --help" "no empty usage"
expect_status 1 "$P" device show zz
expect_contains "$(cat "$T/.err")" "provisor: device show: MAC address" "malformed MAC"
expect_contains "$(cat "$T/.err")" "(HTTP 422)" "422, not 404"
expect_status 1 "$P" device show 000e08999999
expect_contains "$(cat "$T/.err")" "(HTTP 404)" "a well-formed unknown MAC is 404"

# --- binding code ids: a revoked code's id is never handed out again
"$P" code create acme --json >"$T/c1.json"
id1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/c1.json")
expect_status 0 "$P" code revoke "$id1"
"$P" code create acme --json >"$T/c2.json"
id2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/c2.json")
[ "$id2" -gt "$id1" ] || fail "code id $id1 handed out again ($id2)"; ok

# --- a binding code's lifetime names its unit: a bare 7 is not taken as 7 seconds
expect_status 2 "$P" code create acme --expires 7
expect_eq "$(cat "$T/.err")" "provisor: code create: --expires '7': give the unit: s, m, h or d (e.g. 7d)" "bare --expires"
expect_status 0 "$P" code create acme --expires 7d

# --- no report yet: says how to get one
expect_status 1 "$P" device report 000e08000002
expect_eq "$(cat "$T/.err")" "provisor: device report: device 000e08000002 has sent no report yet (ask for one: provisor device report-request MAC) (HTTP 404)" "no report yet"

# --- a resync that can reach nobody says why, with no empty outcome table above the reason
expect_status 1 "$P" device resync 000e08000002 --wait
expect_contains "$(cat "$T/.out")" "no SIP line: User_ID_1_ or Proxy_1_ is empty" "the reason"
[[ "$(cat "$T/.out")" != *OUTCOME* ]] || fail "an empty outcome table: $(cat "$T/.out")"; ok
done_ok
