#!/usr/bin/env bash
# An SPA phone cannot verify our CA (spec 4.4: its firmware trusts Cisco's server CA only), so
# the HTTPS bootstrap is a dead end for it. With `legacy_plain_key` the operator gives such a
# phone, pre-imported and assigned, its first key over plain HTTP, once (docs/security.md
# "SPA phones and our CA"): an emulated SPA504G at factory defaults, pointed at the server by
# DHCP option 160, fetches the bootstrap over TFTP, its key and directory at /$MA.xml over HTTP
# in the same resync, then its encrypted profile — SEC-PRV-2 with the account's parameters,
# without a certificate and without HTTPS. A second request for the key is refused (403), and
# the operator's `device update --state MFG-RESET` gives one more.
# Covers src/server/binding_legacy.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"

MAC=000e08a5a504
D="$T/data"
serve_ports
serve_start run --data-dir "$D" --provisioning-legacy-plain-key yes
DB="$D/provisor.db"
sq() { sqlite3 -cmd ".timeout 5000" "$DB" "$@"; }
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
expect_status 0 "$PV_BIN" account create C-3001 --customer 'Old Phones Ltd'
expect_status 0 "$PV_BIN" params set account:C-3001 'Display_Name_1_={{account.customer}}'
printf 'MAC,model,account\n%s,SPA504G,C-3001\n' "$MAC" >"$T/devices.csv"
expect_status 0 "$PV_BIN" device import "$T/devices.csv"

# the bootstrap an SPA gets names plain HTTP; a multiplatform phone's still names HTTPS
spa=$(curl -sS "http://127.0.0.1:$HTTP_PORT/spa504G.cfg")
expect_contains "$spa" "<Profile_Rule>http://127.0.0.1:$HTTP_PORT/\$MA.xml</Profile_Rule>" \
  "SPA bootstrap over plain HTTP"
mpp=$(curl -sS "http://127.0.0.1:$HTTP_PORT/8841-3PCC.xml")
expect_contains "$mpp" "<Profile_Rule>https://127.0.0.1:$HTTPS_PORT/\$MA.xml</Profile_Rule>" \
  "MPP bootstrap stays HTTPS"

# factory defaults: DHCP option 160 names the server, the factory rule the file (spec 10)
phone_start p --mac "$MAC" --model SPA504G --dhcp-option "160=tftp://127.0.0.1:$TFTP_PORT/"
advance 60 # Resync_Random_Delay: 2 units of 20 s on SPA phones
wait_until 30 "SEC-PRV-2 with the account's parameters" param_is Display_Name_1_ "Old Phones Ltd"
expect_eq "$(field Provisioning_State)" SEC-PRV-2 "phone in SEC-PRV-2"
expect_status 0 grep -q "url=tftp://127.0.0.1:$TFTP_PORT/spa504G.cfg" "$T/p.log"
expect_status 0 grep -q "url=http://127.0.0.1:$HTTP_PORT/$MAC.xml" "$T/p.log"
dir=$(param GPP_B)
[ -n "$dir" ] || fail "no random directory delivered"; ok
expect_status 0 grep -q "url=http://127.0.0.1:$HTTP_PORT/$dir/$MAC.cfg" "$T/p.log"
wait_until 5 "server saw SEC-PRV-2" \
  bash -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT state FROM devices WHERE mac='$MAC'\")\" = SEC-PRV-2 ]"
expect_contains "$(sq "SELECT group_concat(detail, ' / ') FROM audit_log WHERE action='profile.served'")" \
  "first key in the clear" "the plain first key is in the audit"

# once: anyone asking again (the MAC is no secret) is refused
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/$MAC.xml")" 403 \
  "the key is not given twice"
# the operator re-arms it (a factory-reset phone in the staging network)
expect_status 0 "$PV_BIN" device update "$MAC" --state MFG-RESET
key=$(curl -sS "http://127.0.0.1:$HTTP_PORT/$MAC.xml")
expect_contains "$key" "<GPP_B ua=\"na\">$dir</GPP_B>" "re-armed: the same secret once more"

phone_stop
done_ok
