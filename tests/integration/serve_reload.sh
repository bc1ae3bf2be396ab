#!/usr/bin/env bash
# SIGHUP (issue 3): a replaced server certificate reaches new connections
# while a slow download on an old connection completes; new limits apply;
# an invalid configuration is logged and the running one kept.
# Covers src/server/daemon_control.c (the reload) with integration.ops_sd_notify.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
serve_ports
cat >"$T/provisor.conf" <<CONF
[server]
data_dir = $D
workers = 2
[limits]
max_header_bytes = 16K
CONF
serve_start run --config "$T/provisor.conf"
CA="$D/tls/ca.pem"
base="https://127.0.0.1:$HTTPS_PORT"
head -c $((24 * 1024 * 1024)) /dev/urandom >"$D/profiles/big.bin"

served_sha256() {
  openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
old_fp=$(cert_sha256 "$D/tls/server.pem")
expect_eq "$(served_sha256)" "$old_fp" "the first certificate is served"

# A slow download on a connection opened before the reload, in flight until the test has
# checked the reload ($T/go).
slow_get "$base/big.bin" "$T/slow.bin" "$T/go" --ca "$CA"

# A new server certificate and key from the same CA, moved into place, then SIGHUP.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/new.key" \
  -subj "/CN=localhost/O=Provisor renewed" -out "$T/new.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/ext"
openssl x509 -req -in "$T/new.csr" -CA "$CA" -CAkey "$D/tls/ca.key" -CAcreateserial -days 2 \
  -extfile "$T/ext" -out "$T/new.pem" 2>/dev/null
new_fp=$(cert_sha256 "$T/new.pem")
[ "$new_fp" != "$old_fp" ] || fail "test certificate not new"; ok
cp "$T/new.key" "$D/tls/server.key"
cp "$T/new.pem" "$D/tls/server.pem"
sed -i 's/max_header_bytes = 16K/max_header_bytes = 1K/' "$T/provisor.conf"
kill -HUP "$SERVE_PID"
wait_log "$T/run.log" "event=config.reloaded"

expect_eq "$(served_sha256)" "$new_fp" "a new connection sees the new certificate"
kill -0 "$slow" 2>/dev/null || fail "the slow download ended before the reload was checked"; ok
touch "$T/go"
wait "$slow" || fail "the in-flight download failed across the reload"
same_file "$T/slow.bin" "$D/profiles/big.bin" "in-flight download complete and intact"

# The new header limit applies to new connections: 2 KB of headers is now too much.
long=$(head -c 2000 /dev/zero | tr '\0' a)
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Pad: $long" \
  "http://127.0.0.1:$HTTP_PORT/sample.xml")" 431 "new max_header_bytes applied"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/sample.xml")" \
  200 "small requests still served"

# An invalid configuration on SIGHUP: logged with its line, the running one kept.
printf '[server]\ndata_dir = %s\nworkers = many\n' "$D" >"$T/provisor.conf"
kill -HUP "$SERVE_PID"
wait_log "$T/run.log" "event=config.reload_failed"
expect_contains "$(grep reload_failed "$T/run.log")" "provisor.conf:3: [server] workers" \
  "reload error names line and key"
expect_eq "$(served_sha256)" "$new_fp" "certificate kept after a failed reload"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Pad: $long" \
  "http://127.0.0.1:$HTTP_PORT/sample.xml")" 431 "limits kept after a failed reload"

# A certificate file that is not a certificate: same, logged and kept.
printf '[server]\ndata_dir = %s\nworkers = 2\n' "$D" >"$T/provisor.conf"
echo garbage >"$D/tls/server.pem"
kill -HUP "$SERVE_PID"
wait_log "$T/run.log" "event=config.reload_failed.*server.pem"
expect_eq "$(served_sha256)" "$new_fp" "certificate kept when the new one is unreadable"
serve_stop
done_ok
