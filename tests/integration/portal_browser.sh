#!/usr/bin/env bash
# The customer portal in a real browser (issue 10 item 3, Tests): Debian's chromium, headless,
# driven by npm playwright-core with axe-core (tests/browser/, pinned by its lockfile, installed
# by scripts/deps.sh). Customers created with the CLI; alice logs in, changes a speed dial, gets
# a code, an emulated phone (`provisor phone` with a demo certificate) is bound with it through
# its /admin/resync page, and the page shows "configured" without a reload; a POST without the
# CSRF token is refused; bob cannot reach alice's phone by URL; wrong passwords lock; axe-core
# finds no serious or critical violation on any page in English and Japanese. "Resync my phone":
# the phone (`provisor phone --sip`) gets the NOTIFY the button sends and the page shows its
# outcome without a reload; "resync my phones" right after is refused. Screenshots are
# kept in $PV_BUILD/portal_browser/ (docs/portal.md).
# Covers src/server/portal.c, portal_pages.c, portal_push.c, web/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"

browser_ready

D="$T/data"
MAC=000e08c0ffee
serve_ports
PORTAL_PORT=$(free_port tcp)
PORTAL_ADDR="127.0.0.1:$PORTAL_PORT"
serve_start run --data-dir "$D" --tftp off --portal-lockout-failures 3
wait_log "$T/run.log" "proto=portal addr=127.0.0.1:$PORTAL_PORT"
P=$PV_BIN
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"

"$P" account create acme --customer "ACME Bakery" --settings '{"sip_delivery":"direct","lines":[{"line":1,"user":"1001","display_name":"Front"}],"speed_dials":[{"key":2,"name":"Office","number":"1002"}],"user_features":["display_name","speed_dials","hunt_group"],"hunt_group":{"number":"600","members":["1001"]}}' >/dev/null
PHONE_SIP=$(free_port udp) # the phone's line: NOTIFYs straight to its SIP port
"$P" params set account:acme 'User_ID_1_={{lines.0.user}}' 'Speed_Dial_2_={{speed_dials.0.number}}' \
  'Password_1_=l1ne-s3cret' "Proxy_1_=127.0.0.1:$(free_port udp)" "SIP_Port_1_=$PHONE_SIP" >/dev/null
"$P" account create beta --settings '{"lines":[{"line":1,"user":"2001"}]}' >/dev/null
"$P" device create 00:0e:08:be:7a:01 --model CP-8841-3PCC --account beta >/dev/null
printf '%s\n' 'alice password 1' | "$P" customer create acme alice --password-stdin >/dev/null
printf '%s\n' 'bob password 1' | "$P" customer create beta bob --password-stdin >/dev/null

expect_status 0 "$P" phone cert --mac "$MAC" --model CP-8841-3PCC --data-dir "$D" --out "$T/phone.pem"
phone_start p --mac "$MAC" --model CP-8841-3PCC --cert "$T/phone.pem" --key "$T/phone.pem" \
  --ca "$D/tls/ca.pem" --sip "127.0.0.1:$PHONE_SIP"

OUT="${PV_BUILD:-$T}/portal_browser"
rm -rf "$OUT"
PORTAL="https://127.0.0.1:$PORTAL_PORT" HTTPS_PORT=$HTTPS_PORT PHONE=$PHONE OUT=$OUT \
  WAIT=$((6 * ${PV_WAIT_FACTOR:-10})) ALICE=alice ALICE_PW='alice password 1' BOB=bob \
  BOB_PW='bob password 1' BOB_MAC=000e08be7a01 \
  node "$B/portal.mjs" >"$T/browser.out" 2>&1 || fail "browser: $(tail -c 3000 "$T/browser.out")"
cat "$T/browser.out"
ok
# What the browser saw is what the phone and the store have: the new speed dial, configured.
expect_eq "$(field Provisioning_State)" SEC-PRV-2 "phone in SEC-PRV-2"
expect_eq "$("$P" device show "$MAC" --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["account"], j["state"])')" \
  "acme SEC-PRV-2" "bound to acme"
expect_contains "$("$P" account show acme --json)" '"number": "1003"' "speed dial 3 from the browser"
expect_eq "$(ls "$OUT"/*.png | wc -l)" 15 "screenshots kept"
# The button's NOTIFY reached the phone (and the server's check-sync after the binding before it).
expect_eq "$(grep -c 'event=sip.notify line=1 event=resync .*result=accepted' "$T/p.log")" 1 "the button's NOTIFY acted on"
expect_eq "$(grep -c 'event=sip.notify line=1 event=check-sync .*result=accepted' "$T/p.log")" 1 "the server's NOTIFY after the binding"
# The portal's code, like the CLI's, appears whole in no log line and no audit row.
CODE=$(sed -n 's/^code: //p' "$T/browser.out")
[[ "$CODE" =~ ^[0-9]{12}$ ]] || fail "no code reported by the browser: $(cat "$T/browser.out")"
"$P" audit list --json >"$T/audit.json"
expect_contains "$(cat "$T/audit.json")" "code.create" "the portal's code audited"
for f in "$T/run.log" "$T/run.out" "$T/audit.json"; do
  if grep -q "$CODE" "$f"; then fail "the code appears in $(basename "$f"): $(grep "$CODE" "$f" | head -2)"; fi
  ok
done
phone_stop
done_ok
