#!/usr/bin/env bash
# The push end to end through a real SIP proxy (spec 5.5): Kamailio, started here on loopback
# with tests/kamailio/registrar.cfg, is the provider's registrar and proxy. `provisor phone`
# provisions from `provisor serve` (in-house flow: its manufacturer certificate, then the
# encrypted SEC-PRV-2 profile that carries its SIP line) and registers its line with Kamailio.
# An operator changes a parameter; `provisor device resync MAC --wait` sends NOTIFY to the
# line's AOR through Kamailio, which routes it to the phone's contact; the phone challenges
# it, the server answers with the line's credentials, and the phone shows the new value
# within seconds. `params set --notify` notifies exactly the devices whose rendered profile
# changed. A device whose phone is not registered gets not-registered (404). Then the account
# chooses direct delivery (settings.sip_delivery): `account update --notify` sends the NOTIFY
# straight to the address the phone last provisioned from, at its SIP_Port_1_, not through
# Kamailio; a device that never provisioned has no address (error).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"
need kamailio openssl

MAC=000e08cafe31
D="$T/data"
export PROVISOR_DATA="$D"
SIP_PORT=$(free_port udp) # the phone's SIP_Port_1_: where a direct NOTIFY goes
kamailio_start

serve_ports
serve_start srv --data-dir "$D" --sip-outbound-proxy "127.0.0.1:$K_PORT" --sip-timeout-ms 4000 \
  --sip-retries 1
export PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
P=$PV_BIN
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
# lastj EXPR — the same on the last JSON document of stdin (the set's answer, then the job)
lastj() { python3 -c "
import json,sys
t=sys.stdin.read(); d=json.JSONDecoder(); i=0; j=None
while i < len(t):
    if t[i] in ' \n': i+=1; continue
    j,i=d.raw_decode(t,i)
print($1)"; }
"$P" account create acme --settings '{"lines":[{"line":1,"user":"3101","password":"k4m-pw","display_name":"Reception"}]}' >/dev/null
"$P" params set account:acme 'User_ID_1_={{lines.0.user}}' 'Password_1_={{lines.0.password}}' \
  "Proxy_1_=127.0.0.1:$K_PORT" 'Register_Expires_1_=300' 'Station_Name=first' \
  "SIP_Port_1_=$SIP_PORT" 'Display_Name_1_={{lines.0.display_name}}' >/dev/null
"$P" device create "$MAC" --model CP-8841-3PCC --account acme --state SP-CUST >/dev/null
"$P" device create 000e08cafe32 --model CP-8841-3PCC --account acme >/dev/null # never registers

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/phone.key" \
  -subj "/ST=$MAC/L=FCH08CAFE31/OU=CP-8841-3PCC/CN=SEP$MAC" -out "$T/phone.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$T/ext"
openssl x509 -req -in "$T/phone.csr" -CA "$D/manufacturer/demo-ca.pem" \
  -CAkey "$D/manufacturer/demo-ca.key" -CAcreateserial -days 1 -extfile "$T/ext" \
  -out "$T/phone.pem" 2>/dev/null
phone_start p --mac "$MAC" --model CP-8841-3PCC --cert "$T/phone.pem" --key "$T/phone.key" \
  --ca "$D/tls/ca.pem" --sip "127.0.0.1:$SIP_PORT"
web "/admin/resync?https://127.0.0.1:$HTTPS_PORT/$MAC.xml" >/dev/null
wait_until 20 "SEC-PRV-2 profile with the line" param_is Station_Name first
wait_until 20 "line 1 registered with Kamailio" field_is Registration_State_1_ Registered
# The server's own check-sync after the binding (2 s later, retried while the line is not yet
# registered) goes through Kamailio too: let it finish, so that the counts below are the
# operator's alone (on a busy machine it came during the direct delivery's count).
sync_done() { "$P" job list --json | python3 -c '
import json,sys; j=json.load(sys.stdin); j=j["items"] if isinstance(j,dict) else j
sys.exit(0 if any(x["action"] == "check-sync" and x["outcomes"]["ok"] == 1 for x in j) else 1)'; }
wait_until 60 "the server's NOTIFY after the binding answered" sync_done
fetches() { grep -c "event=phone.fetch .*status=200" "$T/p.log" || true; }
before=$(fetches)

# --- the operator changes a parameter and pushes it ---
"$P" params set account:acme 'Station_Name=second' >/dev/null
expect_status 0 "$P" device resync "$MAC" --wait --json
expect_eq "$(py 'j["devices"][0]["outcome"], j["devices"][0]["challenged"]' <"$T/.out")" "ok True" \
  "NOTIFY through Kamailio, challenged by the phone, answered by the server"
wait_until 10 "the phone shows the new value" param_is Station_Name second
[ "$(fetches)" -gt "$before" ] || fail "no profile fetch after the NOTIFY"; ok
# Kamailio rewrote the AOR to the contact the phone registered (its SIP address)
grep -q "relay NOTIFY sip:3101@$(cat "$T/p/sip")" "$T/kamailio.log" ||
  fail "Kamailio did not relay the NOTIFY to the phone's contact: $(grep relay "$T/kamailio.log")"
ok
grep -q "event=sip.notify line=1 event=resync .*result=accepted" "$T/p.log" || fail "phone log"
ok

# --- params set --notify: exactly the devices whose rendered profile changed ---
expect_status 0 "$P" params set account:acme 'Station_Name=third' --notify --wait --json
expect_eq "$(lastj 'sorted(d["mac"] for d in j["devices"])' <"$T/.out")" \
  "['000e08cafe31', '000e08cafe32']" "an account change notifies the account's devices"
wait_until 10 "the phone shows the value set with --notify" param_is Station_Name third
expect_status 0 "$P" params set device:000e08cafe32 'Display_Name_1_=front desk' --notify --json
expect_eq "$(lastj '[d["mac"] for d in j["devices"]]' <"$T/.out")" "['000e08cafe32']" \
  "a device change notifies that device only"
expect_status 0 "$P" params set account:acme 'Station_Name=third' --notify
expect_contains "$(cat "$T/.out")" "no device's profile changed" "an unchanged value notifies nobody"

# --- a device whose line is not registered: the proxy answers 404 ---
"$P" params set device:000e08cafe32 'User_ID_1_=3199' >/dev/null
expect_status 1 "$P" device resync 000e08cafe32 --wait --json
expect_eq "$(py 'j["devices"][0]["outcome"], j["devices"][0]["status"]' <"$T/.out")" \
  "not-registered 404" "no contact at the proxy"

# --- direct delivery: the account's choice; account update --notify ---
"$P" device show "$MAC" --json >"$T/dev.json"
expect_eq "$(py 'j["last_address"]' <"$T/dev.json")" "127.0.0.1" "the address it provisioned from"
relays=$(grep -c "relay NOTIFY" "$T/kamailio.log")
expect_status 0 "$P" account update acme --notify --wait --json --settings \
  '{"sip_delivery":"direct","lines":[{"line":1,"user":"3101","password":"k4m-pw","display_name":"Front desk"}]}'
expect_eq "$(lastj 'sorted((d["mac"], d["outcome"], d["via"]) for d in j["devices"])' <"$T/.out")" \
  "[('000e08cafe31', 'ok', 'direct')]" \
  "straight to the phone (the other device's own values hide the account's change)"
wait_until 10 "the phone shows the account's change" param_is Display_Name_1_ "Front desk"
expect_eq "$(grep -c "relay NOTIFY" "$T/kamailio.log")" "$relays" "Kamailio saw no NOTIFY"
expect_status 1 "$P" device resync 000e08cafe32 --wait --json
expect_eq "$(py 'j["devices"][0]["outcome"], j["devices"][0]["via"]' <"$T/.out")" "error " \
  "no address for a device that never provisioned"
expect_status 0 "$P" account update acme --notify --customer "Acme again"
expect_contains "$(cat "$T/.out")" "no device's profile changed" "a change no profile shows"
phone_stop
done_ok
