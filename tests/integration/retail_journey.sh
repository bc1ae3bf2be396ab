#!/usr/bin/env bash
# The retail journey end to end (issue 10): an account and its parameters through the CLI, a
# code from `provisor code create` (12 digits — they also read as a MAC), `provisor phone` with
# a certificate from the data directory's demo manufacturer CA, and one command typed by the
# customer: curl http://PHONE/admin/resync?https://SERVER/init/CODE. The phone reaches SEC-PRV-2
# with the account's parameters with no second action (spec 1.3: Profile_Rule_B runs in the
# same resync). The code appears in no log line, TFTP log, audit row or answer, also when asked
# over TFTP and plain HTTP; a configured binding_prefix is honoured the same way. Once the
# binding completed, the server sends the phone its own check-sync NOTIFY ([sip]
# notify_after_binding; here straight to the phone's SIP port, the account's sip_delivery =
# direct): the phone (`provisor phone --sip`) challenges it, the server answers with the line's
# credentials, and the job (actor "server") records the outcome.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"

MAC=000e08feed01
D="$T/data"
serve_ports
serve_start run --data-dir "$D"
P=$PV_BIN
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

PHONE_SIP=$(free_port udp)
expect_status 0 "$P" account create bakery --customer "Bakery Dupont" \
  --settings '{"sip_delivery":"direct","lines":[{"line":1,"user":"2001","password":"s3cret"}]}'
expect_status 0 "$P" params set account:bakery 'User_ID_1_={{lines.0.user}}' \
  'Display_Name_1_={{account.customer}}' 'Station_Name=phone-{{mac}}' \
  'Password_1_={{lines.0.password}}' "Proxy_1_=127.0.0.1:$(free_port udp)" "SIP_Port_1_=$PHONE_SIP"
"$P" code create bakery --expires 1h --json >"$T/code.json"
CODE=$(py 'j["code"]' <"$T/code.json")
[[ "$CODE" =~ ^[0-9]{12}$ ]] || fail "want a 12-digit code, got '$CODE'"
ok

# The phone's certificate from the demo manufacturer CA (spec 4.4 subject; key in the same file).
expect_status 0 "$P" phone cert --mac "$MAC" --model CP-8841-3PCC --data-dir "$D" --out "$T/phone.pem"

# The binding path asked the wrong ways first: plain HTTP and TFTP bind nothing, log nothing.
H="http://127.0.0.1:$HTTP_PORT"
expect_eq "$(curl -sS -o "$T/http.out" -w '%{http_code}' "$H/init/$CODE")" 403 "binding over plain HTTP"
curl -sS -o "$T/tftp.out" "tftp://127.0.0.1:$TFTP_PORT/init/$CODE" 2>"$T/tftp.err" && fail "TFTP bound"
ok
wait_log "$T/run.log" "event=tftp.transfer.*method=RRQ" 10
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$D/tls/ca.pem" \
  "https://127.0.0.1:$HTTPS_PORT/init/$CODE")" 403 "binding without a certificate"

phone_start p --mac "$MAC" --model CP-8841-3PCC --cert "$T/phone.pem" --key "$T/phone.pem" \
  --ca "$D/tls/ca.pem" --sip "127.0.0.1:$PHONE_SIP"
expect_contains "$(web "/admin/resync?https://127.0.0.1:$HTTPS_PORT/init/$CODE")" \
  "resync started" "the customer's one command"
# No advance of the phone's clock, no second resync: one command is the whole journey.
wait_until 60 "SEC-PRV-2 with the account's parameters" param_is Display_Name_1_ "Bakery Dupont"
expect_eq "$(field Provisioning_State)" SEC-PRV-2 "phone in SEC-PRV-2"
expect_eq "$(param User_ID_1_)" 2001 "account setting rendered and applied"
expect_eq "$(param Station_Name)" "phone-$MAC" "device field applied"
expect_eq "$(param Profile_Rule_B)" "" "the full profile empties Profile_Rule_B again"
expect_eq "$("$P" device show "$MAC" --json | py 'j["account"], j["state"]')" \
  "bakery SEC-PRV-2" "server: bound and in SEC-PRV-2"
expect_eq "$("$P" code list bakery --json | py 'j[0]["state"]')" used "code used"

# The server's check-sync NOTIFY after the binding: no one asked for it.
wait_log "$T/p.log" "event=sip.notify line=1 event=check-sync .*result=accepted" 30
"$P" job list --json >"$T/jobs.json"
JOB=$(py '[x["id"] for x in (j["items"] if isinstance(j, dict) else j) if x["action"] == "check-sync"][0]' <"$T/jobs.json")
expect_eq "$("$P" job show "$JOB" --wait --json | py 'j["actor"], j["subject"], j["total"], [(d["outcome"], d["via"], d["challenged"]) for d in j["devices"]]')" \
  "server $MAC 1 [('ok', 'direct', True)]" "the server's NOTIFY: challenged, answered, 200"

# The code whole nowhere: server log (requests, TFTP transfers, refusals), stdout, audit, answers.
"$P" audit list --json >"$T/audit.json"
expect_contains "$(cat "$T/audit.json")" "device.bound" "binding audited"
for f in "$T/run.log" "$T/run.out" "$T/audit.json" "$T/http.out" "$T/tftp.err"; do
  if grep -q "$CODE" "$f"; then fail "the code appears in $(basename "$f"): $(grep "$CODE" "$f" | head -3)"; fi
  ok
done
expect_eq "$(grep -cE "event=tftp.transfer.*path=\"?/init/${CODE:0:2}\.\.\. " "$T/run.log")" 1 \
  "TFTP log: redacted path"
if grep -q 'identity.refused' "$T/audit.json"; then fail "a code read as a MAC: $(grep identity "$T/audit.json")"; fi
ok
phone_stop
serve_stop

# [provisioning] binding_prefix names the path (the origin chapter's /cisco-init/CODE).
# ... and [sip] notify_after_binding = no: the server sends nothing after this binding.
printf '[provisioning]\nbinding_prefix = cisco-init\n[sip]\nnotify_after_binding = no\n' >"$T/prefix.conf"
serve_start run2 --data-dir "$D" --config "$T/prefix.conf"
wait_log "$T/run2.log" "event=sip.notify_after_binding enabled=no"
"$P" code create bakery --json >"$T/code2.json"
CODE2=$(py 'j["code"]' <"$T/code2.json")
expect_status 0 "$P" device release "$MAC"
phone_start p --mac "$MAC" --model CP-8841-3PCC --cert "$T/phone.pem" --key "$T/phone.pem" \
  --ca "$D/tls/ca.pem"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$H/init/000000000000")" 404 "old prefix: nothing"
expect_contains "$(web "/admin/resync?https://127.0.0.1:$HTTPS_PORT/cisco-init/$CODE2")" \
  "resync started" "the customer's one command"
wait_until 60 "SEC-PRV-2 again after the release" \
  bash -c "[ \"\$('$P' device show $MAC --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"state\"])')\" = SEC-PRV-2 ]"
expect_eq "$("$P" job list --json | py 'len([x for x in (j["items"] if isinstance(j, dict) else j) if x["action"] == "check-sync"])')" \
  1 "no NOTIFY after the second binding"
for f in "$T/run2.log" "$T/run2.out"; do
  if grep -q "$CODE2" "$f"; then fail "the code appears in $(basename "$f")"; fi
  ok
done
phone_stop
serve_stop
done_ok
