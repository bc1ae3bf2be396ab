#!/usr/bin/env bash
# `provisor phone` against servers that are not ours: nginx (HTTP, and HTTPS that requires the
# phone's client certificate) and atftpd, serving hand-made static profiles. The retail flow
# started with /admin/resync?https://SERVER/init/CODE ends in SEC-PRV-2 with the account's
# parameters (spec 12.2); a key rotation; a corrupt profile keeps the previous configuration
# and shows the fast blink; an outage shows the slow blink and recovers on
# Resync_Error_Retry_Delay; a two-stage firmware upgrade over HTTP then TFTP; --uid/--pwd
# against nginx Basic auth; syslog lines on a UDP socket; state survives kill -9.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/phone_lib.bash"
need nginx "$ATFTPD" python3

MAC=000e08aabbcc
pki "$T/pki"
nginx_start
mkdir -p "$T/tftp"
atftpd_start "$T/tftp"
H="127.0.0.1:$NGINX_HTTP"

# A syslog collector (spec 7.3): every datagram, one per line.
SYSLOG_PORT=$(free_port udp)
python3 -u - "$SYSLOG_PORT" "$T/syslog.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "a") as out:
    while True:
        data, _ = s.recvfrom(4096)
        out.write(data.decode("utf-8", "replace") + "\n")
        out.flush()
PY
PV_CLEANUP+=("kill $! 2>/dev/null")
# Bound before the phone sends: on a busy machine python may start after the first datagram.
wait_until 10 "syslog collector bound" udp_bound "$SYSLOG_PORT"

# enc KEY FILE — the encrypted profile a server pre-computes: openssl enc (spec 4.1, 12.2 (c)).
enc() { openssl enc -aes-256-cbc -md sha256 -k "$1" -out "$2" 2>/dev/null; }

KEY1=$(openssl rand -hex 32)
DIR1=$(openssl rand -hex 8)
mkdir -p "$T/secure/init" "$T/www/$DIR1"
# SEC-PRV-1: a key in a secret register and a random directory (spec 12.2 step 3).
cat >"$T/secure/init/ABCD1234" <<XML
<flat-profile>
  <GPP_SA>$KEY1</GPP_SA>
  <GPP_B>$DIR1</GPP_B>
  <Resync_Random_Delay>0</Resync_Random_Delay>
  <Resync_Periodic>60</Resync_Periodic>
  <Resync_Error_Retry_Delay>30</Resync_Error_Retry_Delay>
  <Profile_Rule>[--key \$SA] http://$H/\$B/\$MA.cfg</Profile_Rule>
</flat-profile>
XML
account() { # account NAME [EXTRA XML] — the account's SEC-PRV-2 profile
  printf '<flat-profile><Display_Name_1_>%s</Display_Name_1_><User_ID_1_>1001</User_ID_1_>' "$1"
  printf '<Syslog_Server>127.0.0.1:%s</Syslog_Server>%s</flat-profile>\n' "$SYSLOG_PORT" "${2:-}"
}
account Alice | enc "$KEY1" "$T/www/$DIR1/$MAC.cfg"
chmod -R a+rX "$T/www" "$T/secure" "$T/tftp"

phone_start p1 --mac "$MAC" --model CP-8841-3PCC --cert "$T/pki/phone.pem" \
  --key "$T/pki/phone.key" --ca "$T/pki/ca.pem"
expect_eq "$(field Provisioning_State)" MFG-RESET "factory state"
expect_eq "$(field Client_Certificate)" Installed "\$CCERT with --cert"

# --- retail: the customer opens the resync URL with the code (spec 12.2 step 2) ---
expect_contains "$(web "/admin/resync?https://127.0.0.1:$NGINX_HTTPS/init/ABCD1234")" \
  "resync started" "one-shot resync accepted"
wait_until 10 "SEC-PRV-1 after the binding profile" field_is Provisioning_State SEC-PRV-1
expect_eq "$(param GPP_B)" "$DIR1" "random directory delivered"
expect_eq "$(param GPP_SA)" "" "the key never shows in cfg.xml"
expect_status 0 grep -q '"GET /init/ABCD1234 HTTP/1.1" 200' "$T/nginx/logs/access.log"
advance 61 # Resync_Periodic: the permanent, encrypted URL
wait_until 10 "SEC-PRV-2 with the account's parameters" param_is Display_Name_1_ Alice
expect_eq "$(field Provisioning_State)" SEC-PRV-2 "SEC-PRV-2"
expect_eq "$(param User_ID_1_)" 1001 "account parameter applied"
expect_eq "$(field Status_Indicator)" normal "indicator after success"
wait_until 5 "syslog line for the successful resync" \
  grep -q "Successful resync http://$H/$DIR1/$MAC.cfg" "$T/syslog.txt"
expect_status 0 grep -qE "^<1[0-9]>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} $MAC provisor-phone: CP-8841-3PCC" \
  "$T/syslog.txt"

# --- key rotation: the encrypted profile itself moves the phone to a new key and directory ---
KEY2=$(openssl rand -hex 32)
DIR2=$(openssl rand -hex 8)
mkdir -p "$T/www/$DIR2"
account Alice-2 | enc "$KEY2" "$T/www/$DIR2/$MAC.cfg"
account Alice "<GPP_SA>$KEY2</GPP_SA><GPP_B>$DIR2</GPP_B>" | enc "$KEY1" "$T/www/$DIR1/$MAC.cfg"
chmod -R a+rX "$T/www"
advance 61
wait_until 10 "rotated directory" param_is GPP_B "$DIR2"
advance 61
wait_until 10 "profile under the new key" param_is Display_Name_1_ Alice-2
rm "$T/www/$DIR1/$MAC.cfg"
expect_eq "$(field Provisioning_State)" SEC-PRV-2 "still SEC-PRV-2 after rotation"

# --- a corrupt profile: previous configuration kept, fast blink (origin chapter) ---
cp "$T/www/$DIR2/$MAC.cfg" "$T/good.cfg"
head -c 300 /dev/urandom >"$T/www/$DIR2/$MAC.cfg"
chmod a+r "$T/www/$DIR2/$MAC.cfg"
advance 61
wait_until 10 "fast blink on a corrupt file" field_is Status_Indicator fast-blink
expect_eq "$(param Display_Name_1_)" Alice-2 "previous configuration kept"
cp "$T/good.cfg" "$T/www/$DIR2/$MAC.cfg"
advance 31 # Resync_Error_Retry_Delay
wait_until 10 "normal again after the retry" field_is Status_Indicator normal

# --- an outage: slow blink, then recovery on the retry schedule, not before ---
nginx_stop
advance 61
wait_until 10 "slow blink while the server is down" field_is Status_Indicator slow-blink
nginx_up
requests() { grep -c "event=phone.request" "$T/p1.log"; }
before=$(requests)
advance 10 # within Resync_Error_Retry_Delay: no attempt yet (advance ticks the agent and starts
            # what is due before it answers, so a request would already be logged)
expect_eq "$(requests)" "$before" "no retry before Resync_Error_Retry_Delay"
advance 25
wait_until 10 "recovered on the retry" field_is Status_Indicator normal
expect_eq "$(requests)" $((before + 1)) "exactly one retry"

# --- a two-stage firmware upgrade: B over HTTP (nginx), then C over TFTP (atftpd) (spec 6) ---
FW_B=sip88xx.11-3-2MPP-100
FW_C=sip88xx.12-0-1MPP-5
mkdir -p "$T/www/fw"
image() { printf 'PVFW version=%s model=CP-8841-3PCC\n%s-payload\n' "$1" "$1"; }
image "$FW_B" >"$T/www/fw/$FW_B.loads"
image "$FW_C" >"$T/tftp/$FW_C.loads"
chmod -R a+rX "$T/www" "$T/tftp"
rule="(\$SWVER lt $FW_B)? http://$H/fw/$FW_B.loads | tftp://127.0.0.1:$ATFTPD_PORT/$FW_C.loads"
account Alice-2 "<Upgrade_Rule>$rule</Upgrade_Rule>" | enc "$KEY2" "$T/www/$DIR2/$MAC.cfg"
chmod a+r "$T/www/$DIR2/$MAC.cfg"
advance 61
wait_until 20 "second stage running" field_is Software_Version "$FW_C"
expect_eq "$(field Inactive_Software_Version)" "$FW_B" "first stage kept in the other slot"
expect_eq "$(grep -c "GET /fw/$FW_B.loads" "$T/nginx/logs/access.log")" 1 "stage B fetched once"
expect_eq "$(grep -c 'event=phone.reboot' "$T/p1.log")" 2 "two reboots"

# --- --uid/--pwd answer nginx's Basic challenge (spec 8.2) ---
mkdir -p "$T/www/auth"
printf '<flat-profile><Station_Name>auth-ok</Station_Name></flat-profile>\n' >"$T/www/auth/p.xml"
chmod -R a+rX "$T/www/auth"
web "/admin/resync?%5B--uid%20user%20--pwd%20pass%5D%20http://$H/auth/p.xml" >/dev/null
wait_until 10 "profile behind Basic auth" param_is Station_Name auth-ok
expect_eq "$(grep -c 'GET /auth/p.xml HTTP/1.1" 401' "$T/nginx/logs/access.log")" 1 \
  "credentials offered only after the challenge"
web "/admin/resync?%5B--uid%20user%20--pwd%20wrong%5D%20http://$H/auth/p.xml" >/dev/null
wait_until 10 "refused credentials reported" \
  bash -c "curl -s http://$PHONE/admin/status.xml | grep -q 'Last_Resync_Result.*401'"

# --- state survives kill -9 (atomic writes) ---
kill -9 "$PHONE_PID"
wait "$PHONE_PID" 2>/dev/null || true
phone_start p1 --cert "$T/pki/phone.pem" --key "$T/pki/phone.key" --ca "$T/pki/ca.pem"
expect_eq "$(field Provisioning_State)" SEC-PRV-2 "state after kill -9"
expect_eq "$(param Display_Name_1_)" Alice-2 "parameters after kill -9"
expect_eq "$(field Software_Version)" "$FW_C" "active slot after kill -9"
expect_eq "$(ls -A "$T/p1" | grep -c tmp || true)" 0 "no temporary file left"
phone_stop
done_ok
