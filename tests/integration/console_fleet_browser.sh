#!/usr/bin/env bash
# The console's pages for a fleet in motion (issues 13 and 15; docs/console.md, docs/rollouts.md),
# in Debian's chromium driven by playwright-core with axe-core (tests/browser/console_fleet.mjs):
#  - images and plans: an operator uploads an image file with the page, registers it (again:
#    409 on the page), sees a plan to an unregistered version refused 422 on the page, sets a
#    model's plan, edits it (an empty target: 422), deletes an image; a viewer sees no form and its post is refused 403;
#  - the firmware page: an operator creates a rollout with the page's form; real phones of
#    `provisor fleet` (scenario rollout-bad: the image fails verification on 30 %) make it halt
#    in its canary; the page shows the halt's reason and each stage's health; the operator rolls
#    it back with the page's button; a viewer sees no button and no form, and its API call is
#    refused 403;
#  - the dashboard: resyncs, failures and refusals per minute from the server's own samples (a
#    page opened after the traffic shows it), and what is happening now (the halted rollout);
#  - the device search by last seen: the fleet's phones, stopped, are "not seen for" the time
#    since; the desk phone, resyncing, is "seen within" it; a bad age is refused on the page;
#  - a device's reports: a real full report of `provisor phone`, then server-side changes it has
#    not fetched; the diff view shows the changed and missing parameters, the line password
#    never (masked, not a difference).
# Screenshots are kept in $PV_BUILD/console_fleet_browser/.
# Covers src/server/console_devices.c (last seen), src/server/console_firmware.c, console_plans.c, api.c (pv_api_call_as), console_dashboard.c, console_reports.c, rates.c,
# reports.c (pv_report_compare) and web/static/console.js (api-form, reload).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"

browser_ready

N=40
MODEL=CP-8841-3PCC
NEW=sip88xx.11-3-2MPP-100
OLD=sip88xx.11-3-1MPP-678 # the load an MPP phone of the fleet runs (src/agent/defaults.c)
PHONE_MAC=000e08cafe77
P=$PV_BIN
D="$T/data"
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

serve_ports
serve_start run --data-dir "$D" --tftp off --workers 1 --provisioning-public-host 127.0.0.1 \
  --provisioning-rollout-interval-ms 300 --provisioning-random-delay-s 1
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
wait_for 20 "admin API up" "$P" account list
U="http://127.0.0.1:$ADMIN_PORT"

# --- the fleet's phones, their images and plan (as fleet_rollout.sh) ---------------------------
expect_status 0 "$P" fleet certs --count $N --out "$T/certs" --mix mpp \
  --ca-cert "$D/manufacturer/demo-ca.pem" --ca-key "$D/manufacturer/demo-ca.key"
PW=line-pw-$RANDOM-$RANDOM
expect_status 0 "$P" account create acme \
  --settings '{"lines":[{"line":1,"user":"1001","password":"'"$PW"'"}]}'
{ echo "MAC,model,account"; for i in $(seq 0 $((N - 1))); do
  printf '00562b%06x,%s,acme\n' "$i" "$MODEL"; done; } >"$T/devices.csv"
expect_status 0 "$P" device import "$T/devices.csv"
expect_status 0 "$P" params set global Resync_Periodic=4
expect_status 0 "$P" params set model:$MODEL \
  "Report_Rule=[--key \$SA --status] http://127.0.0.1:$HTTP_PORT/report/\$MA-status.xml"
expect_status 0 "$P" fleet profiles --phones 1 --mix mpp --out "$T/fw" --server http://x
printf 'PVFW version=%s model=%s\nold load\n' "$OLD" "$MODEL" >"$T/old.bin"
expect_status 0 "$P" firmware upload "$T/fw/fleet/fw/$MODEL-$NEW.bin"
expect_status 0 "$P" firmware add "$MODEL-$NEW.bin" --model $MODEL --version $NEW --kind bin
expect_status 0 "$P" firmware upload "$T/old.bin"
expect_status 0 "$P" firmware add old.bin --model $MODEL --version "$OLD" --kind bin
expect_status 0 "$P" plan set $MODEL --target $NEW

# --- one desk phone (`provisor phone`) with a full report, then changes it has not fetched ----
expect_status 0 "$P" phone cert --mac "$PHONE_MAC" --model CP-7841-3PCC --out "$T/desk.pem"
expect_status 0 "$P" device create "$PHONE_MAC" --model CP-7841-3PCC --account acme
expect_status 0 "$P" params set "device:$PHONE_MAC" "Station_Name=desk-{{mac}}" \
  'User_ID_1_={{lines.0.user}}' 'Password_1_={{lines.0.password}}' \
  "Report_Rule=[--key \$SA] http://127.0.0.1:$HTTP_PORT/report/\$MA.xml"
phone_start desk --mac "$PHONE_MAC" --model CP-7841-3PCC --cert "$T/desk.pem" --ca "$D/tls/ca.pem"
web "/admin/resync?https://127.0.0.1:$HTTPS_PORT/$PHONE_MAC.xml" >/dev/null
wait_until 15 "the desk phone provisioned" param_is Station_Name "desk-$PHONE_MAC"
expect_contains "$(web /admin/report)" "report started" "a full report asked"
wait_until 15 "the full report stored" bash -c "'$P' report list --mac $PHONE_MAC --json | grep -q '\"full\"'"
expect_status 0 "$P" params set "device:$PHONE_MAC" 'Station_Name=front-desk' 'Text_Logo=ACME'

printf '%s\n' 'operator password 1' | "$P" user create ops --role operator --password-stdin >/dev/null
printf '%s\n' 'viewer password 1' | "$P" user create view --role viewer --password-stdin >/dev/null

OUT="${PV_BUILD:-$T}/console_fleet_browser"
rm -rf "$OUT"
browser() { # PHASE: one part of tests/browser/console_fleet.mjs
  CONSOLE="$U" OUT=$OUT WAIT=$((6 * ${PV_WAIT_FACTOR:-10})) PHASE=$1 MODEL=$MODEL OLD=$OLD \
    DESK=$PHONE_MAC FLEET=$N FLEET_END=${FLEET_END:-0} SECRET=$PW OPS=ops OPS_PW='operator password 1' VIEW=view \
    VIEW_PW='viewer password 1' node "$B/console_fleet.mjs" >"$T/browser-$1.out" 2>&1 ||
    fail "browser ($1): $(tail -c 3000 "$T/browser-$1.out")"
  cat "$T/browser-$1.out"
  ok
}

# 1. The operator creates the rollout on the firmware page (the API's POST /rollouts).
browser create
"$P" rollout show bad >"$T/show"
expect_contains "$(cat "$T/show")" "running" "the rollout the page created runs"
expect_contains "$(cat "$T/show")" "canary 10" "with the canary the form asked"
expect_contains "$("$P" audit list --json)" "login:ops" "created under the operator's login"
plan=$("$P" plan show CP-6871-3PCC)
expect_contains "$plan" "sip6871.11-3-2MPP-77" "the plan the page set (the refused edit left it)"
fw=$("$P" firmware list --model CP-6871-3PCC)
expect_contains "$fw" "desk-77.bin" "the image the page uploaded and registered"
case "$fw" in *sip6871.old*) fail "the image the page deleted still listed: $fw" ;; esac
ok
audit=$("$P" audit list --json)
for a in firmware.upload firmware.create firmware.delete plan.put; do
  expect_contains "$audit" "\"$a\"" "$a audited"
done

# 2. Real phones: the image fails verification on 30 %, the rollout halts in its canary.
set +e
"$P" fleet run --scenario rollout-bad --phones $N --mix mpp --server "https://127.0.0.1:$HTTPS_PORT" \
  --ca "$D/tls/ca.pem" --certs "$T/certs" --report "$T/bad" --duration 30 --fault verify \
  --bad-share 30 >"$T/fleet.out" 2>"$T/fleet.err"
set -e
wait_for 20 "the rollout halted" bash -c "'$P' rollout show bad | grep -q ', halted'"
# The fleet's phones stopped; the desk phone resyncs on (Resync_Periodic 4): once it has done
# so a few seconds after, "not seen since" splits them (the browser's device search).
FLEET_END=$(date +%s)
desk_resynced() { [ "$("$P" device show "$PHONE_MAC" --json | py 'j["last_seen"]')" -gt $((FLEET_END + 4)) ]; }
wait_for 20 "the desk phone resynced after the fleet stopped" desk_resynced

# 3. The halted rollout, the dashboard and the desk phone's report diff in the browser; the
#    operator rolls the rollout back; the viewer reads, without a button.
browser halted
expect_contains "$("$P" rollout show bad)" "rolled_back" "rolled back by the page's button"
audit=$("$P" audit list --json)
expect_contains "$audit" "rollout.rollback" "the rollback audited"
expect_contains "$audit" "login:ops" "under the operator's login"
done_ok
