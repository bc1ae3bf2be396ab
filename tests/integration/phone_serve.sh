#!/usr/bin/env bash
# `provisor phone` against `provisor serve` (issue 5 acceptance): the retail flow started with
# curl http://PHONE/admin/resync?https://SERVER/init/CODE (a code from `provisor code create`)
# binds the phone over mTLS (its certificate from the demo manufacturer CA) and, in the same
# resync, the encrypted SEC-PRV-2 profile carries the account's parameters; the server rotates
# the key and the phone follows it; an outage shows the slow blink and the phone recovers on the
# retry schedule the server provisioned; a firmware plan with an MPP .loads manifest registered
# through the admin API upgrades the phone.
# Covers src/server/prov_firmware.c (the manifest and image downloads) with fleet_rollout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"

MAC=000e08cafe01
D="$T/data"
serve_ports
serve_start run --data-dir "$D"
DB="$D/provisor.db"
sq() { sqlite3 -cmd ".timeout 5000" "$DB" "$@"; }
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
expect_status 0 "$PV_BIN" account create C-2001 --customer 'Bakery Dupont' \
  --settings '{"lines":[{"line":1,"user":"2001"}]}'
expect_status 0 "$PV_BIN" params set global 'Station_Name=phone-{{mac}}' --ua rw
expect_status 0 "$PV_BIN" params set account:C-2001 'Display_Name_1_={{account.customer}}'
expect_status 0 "$PV_BIN" params set account:C-2001 'User_ID_1_={{lines.0.user}}' --ua ro
CODE=$("$PV_BIN" code create C-2001 --expires 1h --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
expect_status 0 "$PV_BIN" phone cert --mac "$MAC" --model CP-8841-3PCC --serial FCH08CAFE01 \
  --data-dir "$D" --out "$T/phone.pem"

phone_start p --mac "$MAC" --model CP-8841-3PCC --cert "$T/phone.pem" --key "$T/phone.pem" \
  --ca "$D/tls/ca.pem"
expect_contains "$(web "/admin/resync?https://127.0.0.1:$HTTPS_PORT/init/$CODE")" \
  "resync started" "retail resync URL"
# One command: the binding, then Profile_Rule_B in the same resync (spec 1.3).
wait_until 30 "SEC-PRV-2 with the account's parameters" param_is Display_Name_1_ "Bakery Dupont"
expect_eq "$(sq "SELECT account_id FROM devices WHERE mac='$MAC'")" 1 "bound to the account"
dir=$(param GPP_B)
[ -n "$dir" ] || fail "no random directory delivered"; ok
expect_eq "$(field Provisioning_State)" SEC-PRV-2 "phone in SEC-PRV-2"
expect_eq "$(param User_ID_1_)" 2001 "account setting rendered and applied"
expect_eq "$(param Station_Name)" "phone-$MAC" "device field applied"
wait_until 5 "server saw SEC-PRV-2" \
  bash -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT state FROM devices WHERE mac='$MAC'\")\" = SEC-PRV-2 ]"

# Rotation, as the operator asks for it (the same step the rotation period takes, keys.h);
# the phone follows the new key and directory at its next resync. The key and the directory
# are never in the answer.
rotated=$("$PV_BIN" device rotate-key "$MAC" --json)
expect_contains "$rotated" '"already_pending": false' "operator rotation accepted"
case "$rotated" in *"$dir"*) fail "the rotation's answer shows the directory" ;; *) ok ;; esac
web /admin/resync >/dev/null
wait_until 10 "new directory delivered" bash -c "[ \"\$(curl -s http://$PHONE/admin/cfg.xml | sed -n 's|.*<GPP_B[^>]*>\(.*\)</GPP_B>.*|\1|p')\" != '$dir' ]"
dir2=$(param GPP_B)
web /admin/resync >/dev/null
wait_until 10 "fetched from the new directory" grep -q "url=http://127.0.0.1:$HTTP_PORT/$dir2/$MAC.cfg" "$T/p.log"
wait_until 10 "old directory retired by the server" \
  bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$HTTP_PORT/$dir/$MAC.cfg) = 404 ]"
expect_eq "$(field Status_Indicator)" normal "resync under the new key fine"

# Firmware (spec 6) as the server registers and serves it: an MPP .loads manifest listing its
# files, side by side in DATA/firmware/; the phone fetches the manifest, then each file.
FW=sip88xx.11-3-2MPP-100
mkdir -p "$D/firmware"
printf '%s.k4\nrootfs88xx.11-3-2MPP-100.sbn\n' "$FW" >"$D/firmware/$FW.loads"
head -c 3000 /dev/urandom >"$D/firmware/$FW.k4"
head -c 5000 /dev/urandom >"$D/firmware/rootfs88xx.11-3-2MPP-100.sbn"
api=(--server "http://127.0.0.1:$ADMIN_PORT" --data-dir "$D")
expect_status 0 "$PV_BIN" firmware add "$FW.loads" --model CP-8841-3PCC --version "$FW" \
  --file "$FW.k4" --file rootfs88xx.11-3-2MPP-100.sbn "${api[@]}"
expect_status 0 "$PV_BIN" plan set CP-8841-3PCC --target "$FW" "${api[@]}"
web /admin/resync >/dev/null # the profile now carries the plan's Upgrade_Rule
wait_until 15 "upgraded through the server's manifest" field_is Software_Version "$FW"
for f in "$FW.loads" "$FW.k4" rootfs88xx.11-3-2MPP-100.sbn; do
  expect_eq "$(grep -c "url=http://127.0.0.1:$HTTP_PORT/firmware/$f\$" "$T/p.log")" 1 "fetched $f once"
done
expect_eq "$(field Provisioning_State)" SEC-PRV-2 "state kept through the upgrade"

# An outage: the periodic resync fails (slow blink); the phone recovers on the retry schedule.
serve_stop
advance 90000 # past Resync_Periodic, whatever the server provisioned
wait_until 10 "slow blink while the server is down" field_is Status_Indicator slow-blink
serve_start run2 --data-dir "$D"
# Retry delays are jittered: step the clock until the phone retries (advance starts what is due
# before it answers), then wait for that retry's outcome.
requests() { grep -c "event=phone.request" "$T/p.log"; }
before=$(requests)
for _ in $(seq 40); do
  [ "$(requests)" -gt "$before" ] && break
  advance 60
done
[ "$(requests)" -gt "$before" ] || fail "no retry within 40 minutes of the outage"; ok
wait_until 10 "recovered on the retry schedule" field_is Status_Indicator normal
expect_eq "$(param Display_Name_1_)" "Bakery Dupont" "configuration kept through the outage"
phone_stop
serve_stop
done_ok
