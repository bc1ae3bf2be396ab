#!/usr/bin/env bash
# Reports an operator reads (issue 13): real reports of `provisor phone` — full, then a delta,
# then status — go into `provisor serve` encrypted with the phone's key and are read back with
# `provisor device report`: the SIP password the phone never reports is no difference and its
# value is nowhere in the output, a delta is compared only on what it names, a status report is
# not compared with the profile at all.
# Covers src/server/reports.c (pv_report_diff, pv_report_masked) and api_devices.c (report).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"

MAC=000e08cafe31
D="$T/data"
serve_ports
serve_start run --data-dir "$D" --provisioning-public-host 127.0.0.1
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
P=$PV_BIN
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
S="https://127.0.0.1:$HTTPS_PORT"
H="http://127.0.0.1:$HTTP_PORT"

expect_status 0 "$P" phone cert --mac "$MAC" --model CP-8841-3PCC --out "$T/$MAC.pem"

PW=pw-$RANDOM-$RANDOM-secret
expect_status 0 "$P" account create acme \
  --settings '{"lines":[{"line":1,"user":"1001","password":"'"$PW"'"}]}'
expect_status 0 "$P" params set account:acme 'Station_Name=desk-{{mac}}' \
  'User_ID_1_={{lines.0.user}}' 'Password_1_={{lines.0.password}}'
expect_status 0 "$P" device create "$MAC" --model CP-8841-3PCC --account acme
phone_start p --mac "$MAC" --model CP-8841-3PCC --cert "$T/$MAC.pem" \
  --ca "$D/tls/ca.pem"
web "/admin/resync?$S/$MAC.xml" >/dev/null
wait_until 15 "SEC-PRV-2 with the account's parameters" param_is Station_Name "desk-$MAC"
reports() { "$P" report list --mac "$MAC" --json | py 'len(j)'; }
# The phone may still be busy with what its last resync started (a key confirmation, a NOTIFY's
# resync); its web page then answers "another operation is in progress", and one asks again.
report_started() { [[ "$(web /admin/report)" == *"report started"* ]]; }
report_after() { # report_after N: wait for the phone's report number N
  wait_until 15 "the phone starts a report (not busy)" report_started
  wait_until 15 "report $1 stored" bash -c "[ \"\$('$P' report list --mac $MAC --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')\" = $1 ]"
}

# 1. full: the rendered password is not reported, and that is no difference
report_after 1
"$P" device report "$MAC" --json >"$T/full.json"
expect_eq "$(py '(j["kind"], j["diff"]["count"], j["diff"]["compares"])' <"$T/full.json")" \
  "('full', 0, 'every rendered parameter')" "full report: nothing differs"
"$P" device report "$MAC" >"$T/full.txt"
grep -q "$PW" "$T/full.txt" "$T/full.json" && fail "the password is shown"; ok
expect_contains "$(py 'j["body"]' <"$T/full.json")" "<Station_Name ua=\"rw\">desk-$MAC</Station_Name>" \
  "the body read back"
# a change on the server the phone has not fetched: a full report shows it
expect_status 0 "$P" params set account:acme 'Text_Logo=later'
expect_eq "$("$P" device report "$MAC" --json | py 'j["diff"]["text"]')" \
  '- Text_Logo: rendered "later", not reported' "full: the missing parameter"

# 2. delta (spec 7.1 --delta, $MA-delta.xml): compared only on the parameters it names
expect_status 0 "$P" params set account:acme "Report_Rule=[--key \$SA --delta] $H/report/\$MA-delta.xml"
web "/admin/resync?$S/$MAC.xml" >/dev/null
wait_until 15 "the phone has the delta rule" param_is Text_Logo later
expect_status 0 "$P" params set account:acme 'Text_Logo=even-later' 'Station_Name=renamed'
report_after 2
"$P" device report "$MAC" --json >"$T/delta.json"
expect_eq "$(py '(j["kind"], j["diff"]["compares"])' <"$T/delta.json")" \
  "('delta', 'the parameters the delta report names')" "delta kind"
expect_contains "$(py 'j["diff"]["text"]' <"$T/delta.json")" \
  "~ Station_Name: rendered \"renamed\", reported \"desk-$MAC\"" "delta: a named parameter differs"
grep -q "$PW" "$T/delta.json" && fail "the password is shown"; ok
py 'j["diff"]["text"]' <"$T/delta.json" | grep -q 'not reported' && fail "delta lists unnamed parameters"; ok

# 3. status ($MA-status.xml): the phone's state, nothing to compare
expect_status 0 "$P" params set account:acme "Report_Rule=[--key \$SA --status] $H/report/\$MA-status.xml"
web "/admin/resync?$S/$MAC.xml" >/dev/null
wait_until 15 "the phone has the status rule" param_is Station_Name renamed
report_after 3
"$P" device report "$MAC" --json >"$T/status.json"
expect_eq "$(py '(j["kind"], j["diff"]["count"])' <"$T/status.json")" "('status', 0)" "status: no diff"
expect_contains "$(py 'j["diff"]["compares"]' <"$T/status.json")" "status report" "status explained"
done_ok
