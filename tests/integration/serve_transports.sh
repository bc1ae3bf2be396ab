#!/usr/bin/env bash
# `provisor serve` on its three transports with real peers: curl over HTTP and
# HTTPS (with and without a phone certificate issued by the demo manufacturer
# CA), curl tftp:// and atftp; then /metrics counts exactly those requests.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
serve_ports
serve_start run --data-dir "$D" --workers 2
CA="$D/tls/ca.pem"
head -c 513 /dev/urandom >"$D/profiles/f513.bin"
mkdir -p "$D/profiles/cisco"
cp "$D/profiles/sample.xml" "$D/profiles/cisco/000e08abcdef.xml"

# A phone certificate from the demo manufacturer CA, made with openssl (spec 4.4 subject).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/phone.key" \
  -subj "/ST=000e08abcdef/L=88012BA01234/OU=CP-8841-3PCC/CN=SEP000E08ABCDEF" \
  -out "$T/phone.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$T/ext"
openssl x509 -req -in "$T/phone.csr" -CA "$D/manufacturer/demo-ca.pem" \
  -CAkey "$D/manufacturer/demo-ca.key" -CAcreateserial -days 1 -extfile "$T/ext" \
  -out "$T/phone.pem" 2>/dev/null
expect_status 0 openssl verify -CAfile "$D/manufacturer/bundle.pem" "$T/phone.pem"
# A certificate from a CA the server does not trust.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rogue.key" \
  -subj "/CN=rogue" -days 1 -out "$T/rogue.pem" 2>/dev/null

base_http="http://127.0.0.1:$HTTP_PORT"
base_https="https://127.0.0.1:$HTTPS_PORT"
curl -sS -o "$T/h.bin" "$base_http/f513.bin"
same_file "$T/h.bin" "$D/profiles/f513.bin" "HTTP body"
curl -sS --cacert "$CA" -o "$T/s.bin" "$base_https/f513.bin"
same_file "$T/s.bin" "$D/profiles/f513.bin" "HTTPS body, no client certificate (optional)"
curl -sS --cacert "$CA" --cert "$T/phone.pem" --key "$T/phone.key" -o "$T/p.xml" \
  "$base_https/cisco/000e08abcdef.xml"
same_file "$T/p.xml" "$D/profiles/cisco/000e08abcdef.xml" "HTTPS with a phone certificate"
wait_log "$T/run.log" "path=/cisco/000e08abcdef.xml"
expect_status 0 grep -q "path=/cisco/000e08abcdef.xml" "$T/run.log"
# The HTTPS listener refuses a certificate from an unknown CA.
set +e
curl -sS --cacert "$CA" --cert "$T/rogue.pem" --key "$T/rogue.key" -o /dev/null \
  "$base_https/f513.bin" 2>"$T/rogue.err"
rogue_rc=$?
set -e
[ $rogue_rc -ne 0 ] || fail "a certificate from an unknown CA was accepted"; ok
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$base_http/nope.xml")" 404 "missing file"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' --path-as-is "$base_http/../etc/passwd")" \
  403 "path traversal refused"

# TFTP: curl and atftp from the same root.
curl -sS -o "$T/t1.bin" "tftp://127.0.0.1:$TFTP_PORT/f513.bin"
same_file "$T/t1.bin" "$D/profiles/f513.bin" "curl tftp://"
atftp --option "blksize 1428" --option "tsize 0" -g -r f513.bin -l "$T/t2.bin" 127.0.0.1 "$TFTP_PORT" >/dev/null
same_file "$T/t2.bin" "$D/profiles/f513.bin" "atftp with blksize and tsize"

# /metrics counts what was just asked; /healthz answers.
wait_log "$T/run.log" "method=RRQ path=f513.bin.*status=200" 5
expect_eq "$(metric 'provisor_requests_total{proto="http",status="200"}')" 1 "HTTP 200 count"
expect_eq "$(metric 'provisor_requests_total{proto="http",status="404"}')" 1 "HTTP 404 count"
expect_eq "$(metric 'provisor_requests_total{proto="https",status="200"}')" 2 "HTTPS 200 count"
expect_eq "$(metric 'provisor_requests_total{proto="tftp",status="200"}')" 2 "TFTP 200 count"
expect_eq "$(metric 'provisor_bytes_sent_total{proto="tftp"}')" 1026 "TFTP bytes"
failed=$(metric 'provisor_tls_handshakes_total{kind="failed"}')
[ "$failed" -ge 1 ] || fail "failed handshake not counted"; ok
expect_contains "$(curl -sS "http://127.0.0.1:$ADMIN_PORT/metrics")" \
  'provisor_loop_requests_total{loop="2"}' "per-loop counter for both loops"
expect_eq "$(curl -sS "http://127.0.0.1:$ADMIN_PORT/healthz")" ok "healthz"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/nope")" 404 \
  "admin 404"
serve_stop

# --client-cert required: no certificate, no answer; the phone's certificate still works.
serve_start required --data-dir "$D" --client-cert required --tftp off --http off
set +e
curl -sS --cacert "$CA" -o /dev/null "$base_https/f513.bin" 2>/dev/null
rc=$?
set -e
[ $rc -ne 0 ] || fail "served without a client certificate though required"; ok
curl -sS --cacert "$CA" --cert "$T/phone.pem" --key "$T/phone.key" -o "$T/p2.xml" \
  "$base_https/cisco/000e08abcdef.xml"
same_file "$T/p2.xml" "$D/profiles/cisco/000e08abcdef.xml" "required: phone certificate accepted"
grep -q "event=listener.ready proto=http " "$T/required.log" && fail "HTTP listener not off"; ok
serve_stop
done_ok
