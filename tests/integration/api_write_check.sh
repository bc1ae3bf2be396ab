#!/usr/bin/env bash
# A parameter or settings write is checked against every device it reaches (issue 13: "every
# edit validated against the devices it reaches"; docs/api.md "Checked when written"), not the
# first 5 000: 6 000 devices imported from a CSV, as an operator does, and in each case the only
# device that would fail lies beyond the first 5 000 in MAC order — a device without a serial,
# a device without an account, a device whose own layer reads a setting. Each write is refused
# 422 naming exactly that device, its dry run counts it among all 6 000, and the fixed write
# passes.
# Covers src/server/param_check.c (groups), src/store/store_device_search.c
# (pv_store_scope_groups, pv_store_account_groups) and src/server/api_accounts.c (settings).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"

P=$PV_BIN
export PROVISOR_DATA="$T/data"
api_start serve
export PROVISOR_TOKEN=$TOKEN
N=6000
NOSERIAL=$(printf '000e09%06x' 5600)  # no serial
NOACCOUNT=$(printf '000e09%06x' 5700) # no account
DESK=$(printf '000e09%06x' 5800)      # its own layer reads line 2's user
TWO='{"lines":[{"line":1,"user":"1001"},{"line":2,"user":"1002"}]}'
ONE='{"lines":[{"line":1,"user":"1001"}]}'
expect_status 0 "$P" account create big --settings "$TWO"
python3 - "$N" >"$T/devices.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("MAC,model,account,serial")
for i in range(n):
    print("000e09%06x,%s,%s,%s" % (i, ["CP-8841-3PCC", "SPA504G"][i % 2],
          "" if i == 5700 else "big", "" if i == 5600 else "SN%06d" % i))
PY
expect_status 0 "$P" device import "$T/devices.csv" --batch 5000

# --- a parameter: {{serial}} fills for every device but one, the 5 601st
expect_status 1 "$P" params set account:big 'Text_Logo={{serial}}' --dry-run
expect_contains "$(cat "$T/.out")" "dry run: 5999 devices change, 1 would fail to render (first: device $NOSERIAL:" \
  "the dry run counts the one device, beyond the first 5 000"
expect_status 1 "$P" params set account:big 'Text_Logo={{serial}}'
expect_contains "$(cat "$T/.err")" "1 of 5999 devices would fail to render (first: device $NOSERIAL: Text_Logo: placeholder {{serial}}: device $NOSERIAL has no serial" \
  "refused naming it"
expect_contains "$(cat "$T/.err")" "(HTTP 422)" "422"
# --- global: {{lines.0.user}} fills for every device of an account; one has none
call PUT /params/global '{"entries":{"User_ID_1_":{"value":"{{lines.0.user}}"}}}'
expect_eq "$STATUS" 422 "a global value the unassigned device cannot fill"
expect_contains "$BODY" "1 of 6000 devices would fail to render (first: device $NOACCOUNT:" "names it"
expect_contains "$BODY" "belongs to no account" "and why"
expect_status 0 "$P" device assign "$NOACCOUNT" big
expect_status 0 "$P" params set global 'User_ID_1_={{lines.0.user}}'
expect_status 0 "$P" params set account:big 'Text_Logo={{mac}}'

# --- settings: only the desk's own layer reads line 2
expect_status 0 "$P" params set "device:$DESK" 'Display_Name_1_={{lines.1.user}}'
call PATCH "/accounts/big?dry_run=1" "{\"settings\":$ONE}"
expect_eq "$STATUS" 200 "a dry run of the settings change"
expect_eq "$(jq_py '(j["devices"], j["would_fail"], j["changed"], "partial" in j)')" "(6000, 1, 0, False)" \
  "every device counted, one failing, no 'partial'"
expect_contains "$(jq_py 'j["first_failure"]')" "$DESK, Display_Name_1_: unknown placeholder {{lines.1.user}}" "the desk named"
call PATCH /accounts/big "{\"settings\":$ONE}"
expect_eq "$STATUS" 422 "the settings change refused"
expect_contains "$BODY" "0 devices change, 1 would fail to render (first: $DESK, " "naming the desk"
expect_contains "$("$P" account show big --json)" '"1002"' "the settings as they were"
# a change every device sees: the line's user, in the global layer — all 6 000 change
call PATCH "/accounts/big?dry_run=1" '{"settings":{"lines":[{"line":1,"user":"2002"},{"line":2,"user":"1002"}]}}'
expect_eq "$(jq_py '(j["devices"], j["would_fail"], j["changed"])')" "(6000, 0, 6000)" "all change, none fails"
# removing the lines fails every device; the lowest MAC is named
call PATCH /accounts/big '{"settings":{"lines":[]}}'
expect_eq "$STATUS" 422 "removing the lines refused"
expect_contains "$BODY" "6000 would fail to render (first: 000e09000000, " "all of them, the first named"
# the fix: the desk's layer no longer reads it, then the change passes
expect_status 0 "$P" params set "device:$DESK" 'Display_Name_1_=Front desk'
call PATCH /accounts/big "{\"settings\":$ONE}"
expect_eq "$STATUS" 200 "the settings change once nothing reads it"
done_ok
