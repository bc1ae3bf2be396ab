#!/usr/bin/env bash
# provisor phone's SIP user agent against SIPp (spec 5.5): line 1 registers with a SIPp
# registrar that checks its Digest answer; SIPp as the provider's proxy sends NOTIFY: the
# phone challenges it, and only the right credentials act (resync ignoring the triggers,
# report, reboot); wrong credentials, a replayed authenticated NOTIFY, a stale nonce and
# Resync_From_SIP=No do nothing.
# Covers src/phone/phone_sip.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/phone_lib.bash"
need sipp python3

MAC=000e08aabb51
PW='s3cret'
mkdir -p "$T/srv"
printf '<flat-profile><Station_Name>v1</Station_Name></flat-profile>\n' >"$T/srv/p.xml"
python3 "$PV_SRC/tests/integration/phone_auth_server.py" --root "$T/srv" --log "$T/http.log" \
  --port-file "$T/http.port" --user u --password p --lifetime 300 &
PV_CLEANUP+=("kill $! 2>/dev/null")
wait_until 10 "test server up" test -s "$T/http.port"
S="127.0.0.1:$(cat "$T/http.port")"
fetches() { grep -c '^GET /open/p.xml none 200' "$T/http.log" || true; }

# registrar ARGS — a SIPp registrar for one registration, in the background (REG_PID)
REG_PORT=$(free_port udp)
sed -e "s/@USER@/1001/" -e "s/@PASSWORD@/$PW/" "$PV_SRC/tests/sipp/registrar.xml" >"$T/registrar.xml"
registrar() {
  sipp -sf "$T/registrar.xml" -i 127.0.0.1 -p "$REG_PORT" -m 1 -timeout 60s -nostdin \
    >"$T/reg.out" 2>&1 &
  REG_PID=$!
  PV_CLEANUP+=("kill $REG_PID 2>/dev/null")
}
registrar
PHONE_SIP=$(free_port udp)
phone_start sp --mac "$MAC" --model CP-8841-3PCC --sip "127.0.0.1:$PHONE_SIP"
expect_eq "$(cat "$T/sp/sip")" "127.0.0.1:$PHONE_SIP" "the phone's SIP address in DIR/sip"
# A closed MPP trigger gate (spec 5.4): timed resyncs never run, a NOTIFY still does.
cat >"$T/cfg.xml" <<XML
<flat-profile>
  <Profile_Rule>http://$S/open/p.xml</Profile_Rule>
  <Resync_Periodic>86400</Resync_Periodic>
  <Resync_Trigger_1>\$PRVTMR gt 99999999</Resync_Trigger_1>
  <Report_Rule>[--status]http://$S/upload/\$MA-status.xml</Report_Rule>
  <User_ID_1_>1001</User_ID_1_>
  <Password_1_>$PW</Password_1_>
  <Proxy_1_>127.0.0.1:$REG_PORT</Proxy_1_>
</flat-profile>
XML
expect_eq "$(code /admin/config.xml -X POST --data-binary @"$T/cfg.xml")" 200 "line 1 configured"

# --- REGISTER with Digest, checked by SIPp's verifyauth ---
wait_until 20 "line 1 registered" field_is Registration_State_1_ Registered
wait "$REG_PID" || fail "SIPp registrar: $(tail -c 1500 "$T/reg.out")"
ok
expect_eq "$(fetches)" 0 "no resync yet (the trigger gate is closed)"

# notify NAME EVENT WANT PAUSE_MS EXPECT [SIPP ARGS] — SIPp sends one NOTIFY as the proxy.
notify() {
  local name=$1 event=$2 want=$3 pause=$4 expect=$5
  shift 5
  sed -e "s/@WANT@/$want/" -e "s/@PAUSE@/$pause/" -e "s|@EXPECT@|$expect|" \
    "$PV_SRC/tests/sipp/notify.xml" >"$T/$name.xml"
  (cd "$T" && sipp -sf "$T/$name.xml" "127.0.0.1:$PHONE_SIP" -i 127.0.0.1 -p "$(free_port udp)" \
    -m 1 -s 1001 -key event "$event" -timeout 60s -nostdin \
    -trace_msg -message_file "$T/$name.msg" "$@" >"$T/$name.out" 2>&1) ||
    fail "SIPp $name: $(tail -c 1500 "$T/$name.out") phone: $(tail -5 "$T/sp.log")"
  ok
}

# --- resync: challenged, answered, acted on (triggers ignored) ---
notify ok resync 200 0 'SIP/2.0 200' -au 1001 -ap "$PW"
wait_until 20 "NOTIFY resync fetched the profile" param_is Station_Name v1
expect_eq "$(fetches)" 1 "one fetch for one NOTIFY"

# --- nothing for wrong credentials, a replay, Resync_From_SIP=No ---
printf '<flat-profile><Station_Name>v2</Station_Name></flat-profile>\n' >"$T/srv/p.xml"
notify bad resync 401 0 'WWW-Authenticate' -au 1001 -ap wrong
# the authenticated NOTIFY SIPp sent, sent again (new branch): its nonce is spent
python3 - "$T/ok.msg" "$PHONE_SIP" >"$T/replay.out" <<'PY' || fail "replay: $(cat "$T/replay.out")"
import re, socket, sys
log = open(sys.argv[1]).read()
sent = [m for m in re.split(r"-{20,}[^\n]*\n", log) if "Authorization:" in m and "message sent" in m]
msg = sent[0].split("\n", 2)[2].strip("\n").replace("\n", "\r\n") + "\r\n\r\n"
msg = re.sub(r"branch=[^;\r\n]+", "branch=z9hG4bKreplay1", msg)
msg = re.sub(r"CSeq: 2 ", "CSeq: 3 ", msg)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(msg.encode(), ("127.0.0.1", int(sys.argv[2])))
print(s.recv(65535).decode().split("\r\n")[0])
PY
expect_eq "$(cat "$T/replay.out")" "SIP/2.0 401 Unauthorized" "a replayed NOTIFY is challenged again"
cat >"$T/nosip.xml" <<XML
<flat-profile><Resync_From_SIP>No</Resync_From_SIP></flat-profile>
XML
expect_eq "$(code /admin/config.xml -X POST --data-binary @"$T/nosip.xml")" 200 "Resync_From_SIP No"
notify refused resync 403 0 'SIP/2.0 403' -au 1001 -ap "$PW"
printf '<flat-profile><Resync_From_SIP>Yes</Resync_From_SIP></flat-profile>\n' >"$T/yes.xml"
expect_eq "$(code /admin/config.xml -X POST --data-binary @"$T/yes.xml")" 200 "Resync_From_SIP Yes"
notify ok2 check-sync 200 0 'SIP/2.0 200' -au 1001 -ap "$PW"
wait_until 20 "check-sync fetched v2" param_is Station_Name v2
expect_eq "$(fetches)" 2 "wrong credentials, the replay and Resync_From_SIP=No fetched nothing"

# --- a stale nonce: the retry comes after the nonce's lifetime ---
notify stale resync 401 33000 'stale=true' -au 1001 -ap "$PW"
expect_eq "$(fetches)" 2 "a stale nonce fetched nothing"

# --- an unknown event ---
cat >"$T/bad_event.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bad event">
  <send retrans="500"><![CDATA[
NOTIFY sip:1001@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:provisor@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:1001@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 NOTIFY
Event: presence
Max-Forwards: 70
Content-Length: 0

  ]]></send>
  <recv response="489" />
</scenario>
XML
(cd "$T" && sipp -sf "$T/bad_event.xml" "127.0.0.1:$PHONE_SIP" -i 127.0.0.1 -p "$(free_port udp)" \
  -m 1 -timeout 30s -nostdin >"$T/bad_event.out" 2>&1) ||
  fail "SIPp bad event: $(tail -c 1000 "$T/bad_event.out")"
ok

# --- report: "On Request" (spec 7.1) ---
notify report report 200 0 'SIP/2.0 200' -au 1001 -ap "$PW"
wait_until 20 "report uploaded" grep -q "^POST /upload/$MAC-status.xml none 200" "$T/http.log"
up=$(ls "$T/srv/uploads/" | head -1)
expect_contains "$(cat "$T/srv/uploads/$up")" "<Registration_State_1_ ua=\"ro\">Registered" \
  "the report shows the registration"

# --- reboot_now: the phone restarts and registers again ---
registrar
notify reboot reboot_now 200 0 'SIP/2.0 200' -au 1001 -ap "$PW"
wait_until 20 "phone rebooted" grep -q "event=phone.reboot" "$T/sp.log"
wait "$REG_PID" || fail "SIPp registrar after reboot: $(tail -c 1500 "$T/reg.out")"
ok
wait_until 20 "registered again after the reboot" field_is Registration_State_1_ Registered
phone_stop
done_ok
