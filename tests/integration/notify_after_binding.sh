#!/usr/bin/env bash
# The server's check-sync NOTIFY after a binding ([sip] notify_after_binding; docs/provisioning.md
# "After a binding"), through the provider's proxy while the phone is not registered yet: a code
# from `provisor code create` binds `provisor phone` (retail, SEC-PRV-2 in one resync); SIPp as
# the proxy answers the server's first NOTIFY 404 (no contact for the AOR yet), then SIPp as the
# phone behind it challenges the next one and checks the server's Digest answer. The job is the
# server's, its one device ok after two attempts, audited device.check-sync.
# Covers src/server/push.c (pv_push_after_binding), notifier.c (await_registration), daemon.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"
need sipp

MAC=000e08b0b001
D="$T/data"
PROXY_PORT=$(free_port udp)
serve_ports
serve_start srv --data-dir "$D" --tftp off --sip-outbound-proxy "127.0.0.1:$PROXY_PORT"
wait_log "$T/srv.log" "event=sip.notify_after_binding enabled=yes"
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
P=$PV_BIN
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

"$P" account create shop --settings '{"lines":[{"line":1,"user":"3001","password":"l1ne-pw"}]}' >/dev/null
"$P" params set account:shop 'User_ID_1_={{lines.0.user}}' 'Password_1_={{lines.0.password}}' \
  'Proxy_1_=sip.shop.test' >/dev/null
CODE=$("$P" code create shop --expires 1h --json | py 'j["code"]')

# sipp_as NAME TEMPLATE USER PASSWORD — SIPp on the proxy's port for one NOTIFY, background (SIPP_PID)
sipp_as() {
  sed -e "s/@USER@/$3/" -e "s/@PASSWORD@/$4/" -e "s/@EVENT@/check-sync/" \
    "$PV_SRC/tests/sipp/$2" >"$T/$1.xml"
  (cd "$T" && exec sipp -sf "$T/$1.xml" -i 127.0.0.1 -p "$PROXY_PORT" -m 1 -timeout 60s \
    -nostdin >"$T/$1.out" 2>&1) &
  SIPP_PID=$!
  PV_CLEANUP+=("kill $SIPP_PID 2>/dev/null")
  sipp_bound() { ss -uln | grep -q "127.0.0.1:$PROXY_PORT "; }
  wait_until 10 "SIPp bound to $PROXY_PORT" sipp_bound
}
sipp_as early proxy_404.xml - -

expect_status 0 "$P" phone cert --mac "$MAC" --model CP-8841-3PCC --data-dir "$D" --out "$T/phone.pem"
phone_start p --mac "$MAC" --model CP-8841-3PCC --cert "$T/phone.pem" --key "$T/phone.pem" \
  --ca "$D/tls/ca.pem"
expect_contains "$(web "/admin/resync?https://127.0.0.1:$HTTPS_PORT/init/$CODE")" "resync started" \
  "the customer's one command"
wait_until 60 "the phone bound and configured" field_is Provisioning_State SEC-PRV-2
wait "$SIPP_PID" || fail "SIPp (404): $(tail -c 1500 "$T/early.out")"
ok
wait_log "$T/srv.log" "event=sip.notify.after_binding devices=1 job=[0-9]* first=$MAC"
# Registered now: the next attempt (2 s later, retransmitted while SIPp starts) is challenged.
sipp_as phone phone_uas.xml 3001 l1ne-pw
wait "$SIPP_PID" || fail "SIPp (phone): $(tail -c 1500 "$T/phone.out")"
ok
JOB=$("$P" job list --json | py '[x["id"] for x in (j["items"] if isinstance(j, dict) else j) if x["action"] == "check-sync"][0]')
expect_eq "$("$P" job show "$JOB" --wait --json | py 'j["actor"], j["event"], j["subject"], [(d["outcome"], d["status"], d["attempts"], d["challenged"], d["via"]) for d in j["devices"]]')" \
  "server check-sync $MAC [('ok', 200, 2, True, 'proxy')]" "404 while not registered, then ok"
expect_contains "$("$P" audit list --actor server --json)" '"device.check-sync"' "audited as the server's"
phone_stop
done_ok
