#!/usr/bin/env bash
# The provisioning flow with real peers (issue 4 acceptance): curl, atftp-less curl
# tftp:// and openssl play the phones; `provisor serve` runs on loopback ports with
# its store seeded through the CLI. Factory bootstrap → binding with a code from
# `provisor code create` over mTLS → SEC-PRV-1 → the encrypted SEC-PRV-2 profile
# over HTTP and TFTP, decrypted by openssl and provisor decrypt; another phone's
# certificate refused; used, revoked and unknown codes bind nothing; If-None-Match
# → 304; reports by POST and TFTP write; rotation without stranding; guessing locks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
serve_ports
serve_start run --data-dir "$D" --workers 2 --provisioning-reports-per-device 3
DB="$D/provisor.db"
CA="$D/tls/ca.pem"
sq() { sqlite3 -cmd ".timeout 5000" "$DB" "$@"; }
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# Seed: one account with settings, layered parameters with placeholders, codes.
expect_status 0 "$PV_BIN" account create C-1001 --customer 'Travel Agency' \
  --settings '{"lines":[{"line":1,"user":"1001","proxy":"sip.example.net"}]}'
expect_status 0 "$PV_BIN" params set global Proxy_1_=default.example.net
expect_status 0 "$PV_BIN" params set global 'Station_Name=phone-{{mac}}' --ua rw
expect_status 0 "$PV_BIN" params set account:C-1001 'Proxy_1_={{lines.0.proxy}}' \
  'Display_Name_1_={{account.customer}}'
expect_status 0 "$PV_BIN" params set account:C-1001 'User_ID_1_={{lines.0.user}}' --ua ro
CODE=$("$PV_BIN" code create C-1001 --expires 1h --json | py 'j["code"]')
"$PV_BIN" code create C-1001 --json >"$T/revoked.json"
REVOKED=$(py 'j["code"]' <"$T/revoked.json")
expect_status 0 "$PV_BIN" code revoke "$(py 'j["id"]' <"$T/revoked.json")"

# Two phones with certificates from the demo manufacturer CA (spec 4.4 subject).
phone_cert() { # NAME MAC MODEL
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" \
    -subj "/ST=$2/L=SN$2/OU=$3/CN=SEP$2" -out "$T/$1.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$T/ext"
  openssl x509 -req -in "$T/$1.csr" -CA "$D/manufacturer/demo-ca.pem" \
    -CAkey "$D/manufacturer/demo-ca.key" -CAcreateserial -days 1 -extfile "$T/ext" \
    -out "$T/$1.pem" 2>/dev/null
}
phone_cert a 000e08aaaaaa SPA504G
phone_cert b 000e08bbbbbb SPA504G
H="http://127.0.0.1:$HTTP_PORT"
S="https://127.0.0.1:$HTTPS_PORT"
as() { local who=$1; shift; curl -sS --cacert "$CA" --cert "$T/$who.pem" --key "$T/$who.key" "$@"; }
code_of() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }

# 1. Factory bootstrap (spec 1.3 default names) over HTTP and TFTP.
curl -sS -o "$T/boot.xml" "$H/8841-3PCC.xml"
expect_contains "$(cat "$T/boot.xml")" "<Profile_Rule>https://127.0.0.1:$HTTPS_PORT/\$MA.xml</Profile_Rule>" "MPP bootstrap rule"
expect_contains "$(cat "$T/boot.xml")" "<Resync_Random_Delay>120</Resync_Random_Delay>" "MPP delay in seconds"
expect_contains "$(cat "$T/boot.xml")" "<Resync_Error_Retry_Delay>30+30,60+60" "storm retry schedule"
curl -sS -o "$T/boot2.xml" "tftp://127.0.0.1:$TFTP_PORT/spa2102.cfg"
expect_contains "$(cat "$T/boot2.xml")" "<Resync_Random_Delay>6</Resync_Random_Delay>" "SPA delay in 20 s units"

# 2. Binding: used, revoked, unknown codes and a plain-HTTP attempt bind nothing.
expect_eq "$(code_of "$H/init/$CODE")" 403 "binding over plain HTTP"
expect_eq "$(as a -o /dev/null -w '%{http_code}' "$S/init/$REVOKED")" 403 "revoked code"
expect_eq "$(as a -o /dev/null -w '%{http_code}' "$S/init/NOSUCHCODE")" 403 "unknown code"
expect_eq "$(code_of --cacert "$CA" "$S/init/$CODE")" 403 "binding without a certificate"
expect_eq "$(sq "SELECT count(*) FROM devices")" 0 "nothing bound yet"
expect_eq "$(as a -o "$T/prv1.xml" -w '%{http_code}' "$S/init/$CODE")" 200 "binding with the code"
key=$(sed -n 's:.*<GPP_SA ua="na">\([0-9a-f]*\)</GPP_SA>.*:\1:p' "$T/prv1.xml")
dir=$(sed -n 's:.*<GPP_B ua="na">\([A-Za-z0-9_-]*\)</GPP_B>.*:\1:p' "$T/prv1.xml")
expect_eq "${#key}" 64 "GPP_SA holds a 256-bit key"
[ -n "$dir" ] || fail "no GPP_B in $(cat "$T/prv1.xml")"; ok
expect_contains "$(cat "$T/prv1.xml")" "<Profile_Rule>[--key \$SA] http://127.0.0.1:$HTTP_PORT/\$B/\$MA.cfg</Profile_Rule>" "permanent rule"
expect_eq "$(sq "SELECT state || ' ' || account_id || ' ' || model FROM devices WHERE mac='000e08aaaaaa'")" "SEC-PRV-1 1 SPA504G" "bound, SEC-PRV-1"
expect_eq "$(as b -o /dev/null -w '%{http_code}' "$S/init/$CODE")" 403 "a used code binds nothing"
expect_eq "$(sq "SELECT count(*) FROM devices WHERE mac='000e08bbbbbb'")" 0 "phone B not bound"
if grep -q "$CODE" "$T/run.log"; then fail "a binding code was logged whole"; fi; ok
expect_eq "$(sq "SELECT count(*) FROM audit_log WHERE action='binding.refused'")" 5 "refusals audited"

# 3. SEC-PRV-2: the encrypted profile over plain HTTP, decrypted by openssl (md5 for SPA).
curl -sS -D "$T/h1" -o "$T/p.cfg" "$H/$dir/000e08aaaaaa.cfg"
expect_eq "$(head -c 8 "$T/p.cfg")" "Salted__" "encrypted profile"
openssl enc -d -aes-256-cbc -md md5 -k "$key" -in "$T/p.cfg" -out "$T/p.xml"
expect_contains "$(cat "$T/p.xml")" '<User_ID_1_ ua="ro">1001</User_ID_1_>' "account parameter"
expect_contains "$(cat "$T/p.xml")" "<Proxy_1_>sip.example.net</Proxy_1_>" "account layer wins over global"
expect_contains "$(cat "$T/p.xml")" "<Display_Name_1_>Travel Agency</Display_Name_1_>" "account field"
expect_contains "$(cat "$T/p.xml")" '<Station_Name ua="rw">phone-000e08aaaaaa</Station_Name>' "device field"
"$PV_BIN" decrypt --key "$key" "$T/p.cfg" "$T/p2.xml"
same_file "$T/p.xml" "$T/p2.xml" "provisor decrypt"
expect_eq "$(sq "SELECT state FROM devices WHERE mac='000e08aaaaaa'")" "SEC-PRV-2" "first fetch → SEC-PRV-2"
# The same over TFTP: same content version, same bytes.
curl -sS -o "$T/t.cfg" "tftp://127.0.0.1:$TFTP_PORT/$dir/000e08aaaaaa.cfg"
same_file "$T/t.cfg" "$T/p.cfg" "TFTP profile"
etag=$(sed -n 's/^[Ee][Tt]ag: *\([^[:space:]]*\).*/\1/p' "$T/h1")
[ -n "$etag" ] || fail "no ETag"; ok
expect_eq "$(code_of -H "If-None-Match: $etag" "$H/$dir/000e08aaaaaa.cfg")" 304 "If-None-Match"
expect_eq "$(code_of "$H/WrongDir/000e08aaaaaa.cfg")" 404 "unknown directory"
expect_eq "$(sq "SELECT count(*) FROM audit_log WHERE action='profile.served' AND subject='000e08aaaaaa' AND content_hash IS NOT NULL")" 3 "profiles audited with hash"

# 4. Phone B's certificate cannot obtain phone A's profile.
expect_eq "$(as b -o /dev/null -w '%{http_code}' "$S/$dir/000e08aaaaaa.cfg")" 403 "B's certificate, A's path"
expect_eq "$(as a -o /dev/null -w '%{http_code}' "$S/$dir/000e08aaaaaa.cfg")" 200 "A's certificate, A's path"
expect_eq "$(sq "SELECT count(*) FROM audit_log WHERE action='identity.refused'")" 1 "mismatch audited"

# 5. Reports: POST encrypted with the device key, and a TFTP write.
printf '<flat-profile><Proxy_1_>old.example.net</Proxy_1_><User_ID_1_>1001</User_ID_1_></flat-profile>\n' >"$T/rep.xml"
openssl enc -e -aes-256-cbc -md md5 -k "$key" -in "$T/rep.xml" -out "$T/rep.enc"
expect_eq "$(code_of --data-binary @"$T/rep.enc" "$H/report/000e08aaaaaa.xml")" 200 "report POST"
openssl enc -e -aes-256-cbc -md sha256 -k "$key" -in "$T/rep.xml" -out "$T/rep2.enc"
curl -sS -T "$T/rep2.enc" "tftp://127.0.0.1:$TFTP_PORT/report/000e08aaaaaa-status.xml"
wait_log "$T/run.log" "method=WRQ" 5
expect_eq "$(sq "SELECT group_concat(kind) FROM reports WHERE mac='000e08aaaaaa'")" "full,status" "reports stored"
expect_eq "$(sq "SELECT body FROM reports ORDER BY id LIMIT 1")" "$(cat "$T/rep.xml")" "report decrypted"
expect_eq "$(code_of --data-binary 'garbage' "$H/report/000e08aaaaaa.xml")" 403 "plain report: not the device's (docs/security.md)"
# [provisioning] reports_per_device = 3: older reports of the device are dropped.
for _ in 1 2 3; do
  expect_eq "$(code_of --data-binary @"$T/rep.enc" "$H/report/000e08aaaaaa.xml")" 200 "report POST"
done
expect_eq "$(sq "SELECT count(*) FROM reports WHERE mac='000e08aaaaaa'")" 3 "3 reports kept"
expect_eq "$(sq "SELECT count(*) FROM reports WHERE kind='status'")" 0 "the oldest went first"

# 6. Rotation, asked by the operator (the rotation period takes the same step; unit.keys
#    covers the period): the next fetch carries a new key inside, still encrypted with the
#    old one; both directories work until the phone fetches from the new one.
expect_contains "$("$PV_BIN" device rotate-key 000e08aaaaaa --json)" '"already_pending": false' \
  "operator rotation"
expect_contains "$("$PV_BIN" device rotate-key 000e08aaaaaa --json)" '"already_pending": true' \
  "a second rotation before the phone follows is the pending one"
expect_eq "$("$PV_BIN" device rotate-key 000e08ffffff >/dev/null 2>&1; echo $?)" 1 \
  "a device with no key has nothing to rotate"
curl -sS -o "$T/r.cfg" "$H/$dir/000e08aaaaaa.cfg"
openssl enc -d -aes-256-cbc -md md5 -k "$key" -in "$T/r.cfg" -out "$T/r.xml"
key2=$(sed -n 's:.*<GPP_SA ua="na">\([0-9a-f]*\)</GPP_SA>.*:\1:p' "$T/r.xml")
dir2=$(sed -n 's:.*<GPP_B ua="na">\([A-Za-z0-9_-]*\)</GPP_B>.*:\1:p' "$T/r.xml")
[ "$key2" != "$key" ] && [ "$dir2" != "$dir" ] && [ ${#key2} = 64 ] || fail "no rotation: $key2 $dir2"; ok
expect_eq "$(code_of "$H/$dir/000e08aaaaaa.cfg")" 200 "old directory still served before confirm"
curl -sS -o "$T/n.cfg" "$H/$dir2/000e08aaaaaa.cfg"
openssl enc -d -aes-256-cbc -md md5 -k "$key2" -in "$T/n.cfg" -out "$T/n.xml"
expect_contains "$(cat "$T/n.xml")" "<GPP_B ua=\"na\">$dir2</GPP_B>" "new key opens the new directory"
expect_eq "$(code_of "$H/$dir/000e08aaaaaa.cfg")" 404 "old directory retired after confirm"

# 7. Guessing locks: bad guesses by one phone end in 429.
last=0
for i in $(seq 1 25); do last=$(as b -o "$T/lock.out" -w '%{http_code}' "$S/init/GUESS$i"); done
expect_eq "$last" 429 "guessing locks"
expect_contains "$(cat "$T/lock.out")" "429" "locked answer"
expect_contains "$(sq "SELECT detail FROM audit_log WHERE action='binding.refused' ORDER BY id DESC LIMIT 1")" \
  'status=429 reason="too many binding attempts by this phone' "lock audited with its reason"
expect_eq "$(sq "SELECT count(*) FROM devices WHERE mac='000e08bbbbbb'")" 0 "guesses bound nothing"
serve_stop
done_ok
