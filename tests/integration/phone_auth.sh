#!/usr/bin/env bash
# --uid/--pwd (spec 8.2) against a server of our own making (phone_auth_server.py, Python's
# hashlib doing the checking): Digest (RFC 7616, qop=auth) with MD5 and with SHA-256, and
# Basic. On the wire a phone sends one request without credentials, then one with the answer
# to the challenge it got — the test counts them. A wrong password fails after the 2 retries
# of spec 8.2 (3 requests), as class C: slow blink, and again on Resync_Error_Retry_Delay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/phone_lib.bash"
need python3

mkdir -p "$T/srv"
for f in md5 sha basic good; do
  printf '<flat-profile><Station_Name>%s-ok</Station_Name></flat-profile>\n' "$f" >"$T/srv/$f.xml"
done
python3 "$PV_SRC/tests/integration/phone_auth_server.py" --root "$T/srv" --log "$T/auth.log" \
  --port-file "$T/auth.port" --user alice --password S3cret-pass --lifetime 120 &
PV_CLEANUP+=("kill $! 2>/dev/null")
wait_until 10 "auth server up" test -s "$T/auth.port"
S="127.0.0.1:$(cat "$T/auth.port")"

phone_start a --mac 000e08aabb01 --model CP-8841-3PCC
# wire PATH — what the server saw for PATH: "SCHEME STATUS" per request, comma-separated.
wire() { awk -v p="$1" '$2 == p { printf "%s %s,", $3, $4 }' "$T/auth.log"; }
creds='%5B--uid%20alice%20--pwd%20S3cret-pass%5D' # [--uid alice --pwd S3cret-pass]

# --- Digest MD5 ---
web "/admin/resync?$creds%20http://$S/md5/md5.xml" >/dev/null
wait_until 10 "profile behind Digest MD5" param_is Station_Name md5-ok
expect_eq "$(wire /md5/md5.xml)" "none 401,digest 200," "MD5: one request without, one with"

# --- Digest SHA-256 ---
web "/admin/resync?$creds%20http://$S/sha256/sha.xml" >/dev/null
wait_until 10 "profile behind Digest SHA-256" param_is Station_Name sha-ok
expect_eq "$(wire /sha256/sha.xml)" "none 401,digest 200," "SHA-256: one request without, one with"

# --- Basic still works, credentials only after the challenge ---
web "/admin/resync?$creds%20http://$S/basic/basic.xml" >/dev/null
wait_until 10 "profile behind Basic" param_is Station_Name basic-ok
expect_eq "$(wire /basic/basic.xml)" "none 401,basic 200," "Basic: one request without, one with"

# --- no --uid: the 401 is a failure at once (nothing to answer with) ---
web "/admin/resync?http://$S/md5/good.xml" >/dev/null
wait_until 10 "401 without credentials reported" \
  bash -c "curl -s http://$PHONE/admin/status.xml | grep -q 'Last_Resync_Result.*401 authentication required'"
expect_eq "$(wire /md5/good.xml)" "none 401," "no credentials: one request"

# --- a wrong password: 2 retries (spec 8.2), class C, then the retry schedule ---
cat >"$T/wrong.xml" <<XML
<flat-profile>
  <Profile_Rule>[--uid alice --pwd wrong] http://$S/sha256/good.xml</Profile_Rule>
  <Resync_Error_Retry_Delay>30</Resync_Error_Retry_Delay>
  <Resync_Periodic>0</Resync_Periodic>
</flat-profile>
XML
expect_eq "$(code /admin/config.xml -X POST --data-binary @"$T/wrong.xml")" 200 "wrong password rule"
started=$(date +%s)
web /admin/resync >/dev/null
wait_until 10 "wrong password reported" \
  bash -c "curl -s http://$PHONE/admin/status.xml | grep -q 'Last_Resync_Result.*401 credentials refused'"
expect_eq "$(wire /sha256/good.xml)" "none 401,digest 401,digest 401," "1 request + 2 retries"
expect_eq "$(field Status_Indicator)" slow-blink "class C: slow blink"
next=$(field Next_Resync_In)
# The phone's clock runs in real time between the failure and this read (seconds on a busy
# machine): the retry is 30 s after the failure, so 30 minus what has passed since the resync.
waited=$(($(date +%s) - started + 1))
[ "$next" -ge $((30 - waited)) ] && [ "$next" -le 30 ] ||
  fail "retry in $next s ($waited s after the resync), want Resync_Error_Retry_Delay 30"
ok
advance 31
wait_until 10 "retried on Resync_Error_Retry_Delay" \
  bash -c "[ \$(grep -c ' /sha256/good.xml ' '$T/auth.log') = 6 ]"

# --- the right password on the next retry: recovered ---
sed 's/--pwd wrong/--pwd S3cret-pass/' "$T/wrong.xml" >"$T/right.xml"
expect_eq "$(code /admin/config.xml -X POST --data-binary @"$T/right.xml")" 200 "right password rule"
advance 31
wait_until 10 "recovered with the right password" param_is Station_Name good-ok
expect_eq "$(field Status_Indicator)" normal "indicator back to normal"
expect_eq "$(wire /sha256/good.xml | cut -d, -f7-)" "none 401,digest 200," \
  "the recovery: one request without, one with"
phone_stop
done_ok
