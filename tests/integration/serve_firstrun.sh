#!/usr/bin/env bash
# `provisor serve` first run (DESIGN decision 2): it creates its data directory
# (CA, server certificate, demo manufacturer CA, hashed admin token, profiles/),
# says where it listens, and a second run reuses all of it. Configuration
# errors name the file, the line, the key and what is allowed.
# Covers src/cli/cmd_serve.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

export PROVISOR_DATA="$T/data"
serve_ports
serve_start first

# One listener.ready line per listener, with its address.
for l in "tftp addr=127.0.0.1:$TFTP_PORT" "http addr=127.0.0.1:$HTTP_PORT" \
  "https addr=127.0.0.1:$HTTPS_PORT" "admin addr=127.0.0.1:$ADMIN_PORT"; do
  expect_contains "$(grep 'event=listener.ready' "$T/first.log")" "proto=$l" "listener.ready"
done
out=$(cat "$T/first.out")
expect_contains "$out" "http://127.0.0.1:$HTTP_PORT/" "banner: HTTP URL"
expect_contains "$out" "https://127.0.0.1:$HTTPS_PORT/" "banner: HTTPS URL"
expect_contains "$out" "tftp://127.0.0.1:$TFTP_PORT/" "banner: TFTP URL"
expect_contains "$out" "http://127.0.0.1:$ADMIN_PORT/metrics" "banner: metrics URL"
expect_contains "$out" "curl --cacert $T/data/tls/ca.pem https://127.0.0.1:$HTTPS_PORT/" "banner: curl"
expect_contains "$out" "atftp -g -r sample.xml -l /dev/stdout 127.0.0.1 $TFTP_PORT" "banner: atftp"
expect_contains "$out" "console http://127.0.0.1:$ADMIN_PORT/   (a login: provisor user create" "banner: the console"
[[ "$out" != *"portal "* ]] || fail "banner names a portal that is off: $out"; ok
token=$(grep -A1 '^Admin token' "$T/first.out" | tail -1 | tr -d ' ')
[[ "$token" =~ ^pv_[0-9a-f]{48}$ ]] || fail "admin token not printed: $out"; ok

# What the data directory holds.
D="$T/data"
for f in tls/ca.pem tls/ca.key tls/server.pem tls/server.key manufacturer/demo-ca.pem \
  manufacturer/demo-ca.key manufacturer/bundle.pem admin-token.sha256 profiles/sample.xml \
  profiles/README.txt; do
  [ -s "$D/$f" ] || fail "$f missing"; ok
done
[ -d "$D/uploads" ] || fail "uploads/ missing"; ok
for k in tls/ca.key tls/server.key manufacturer/demo-ca.key admin-token.sha256; do
  expect_eq "$(stat -c %a "$D/$k")" 600 "mode of $k"
done
expect_eq "$(stat -c %a "$D")" 700 "mode of the data directory"
expect_status 0 openssl verify -CAfile "$D/tls/ca.pem" "$D/tls/server.pem"
expect_contains "$(cat "$T/.out")" "OK" "server certificate verifies against the CA"
san=$(openssl x509 -in "$D/tls/server.pem" -noout -ext subjectAltName)
expect_contains "$san" "IP Address:127.0.0.1" "server SAN"
expect_contains "$san" "DNS:localhost" "server SAN"
same_file "$D/manufacturer/bundle.pem" "$D/manufacturer/demo-ca.pem" "bundle = demo CA"
expect_eq "$(printf %s "$token" | sha256sum | cut -d' ' -f1)" "$(cat "$D/admin-token.sha256")" \
  "stored admin token hash"
grep -q "$token" -r "$D" && fail "the admin token itself is stored"; ok
expect_eq "$(curl -sS "http://127.0.0.1:$HTTP_PORT/sample.xml" | head -1)" "<flat-profile>" \
  "sample profile served"
ca_fp=$(cert_sha256 "$D/tls/ca.pem")
server_fp=$(cert_sha256 "$D/tls/server.pem")
phone_fp=$(cert_sha256 "$D/manufacturer/demo-ca.pem")
serve_stop

# Second run: everything reused, no new token.
serve_start second
expect_eq "$(cert_sha256 "$D/tls/ca.pem")" "$ca_fp" "CA reused"
expect_eq "$(cert_sha256 "$D/tls/server.pem")" "$server_fp" "server certificate reused"
expect_eq "$(cert_sha256 "$D/manufacturer/demo-ca.pem")" "$phone_fp" "manufacturer CA reused"
grep -q "Admin token" "$T/second.out" && fail "admin token printed again"; ok
grep -q "datadir.created" "$T/second.log" && fail "data directory created again"; ok
expect_eq "$(curl -sS --cacert "$D/tls/ca.pem" "https://127.0.0.1:$HTTPS_PORT/sample.xml" | head -1)" \
  "<flat-profile>" "HTTPS with the data directory's CA"
# A second server on the same ports: the port it cannot take, and why, in one line.
expect_status 1 "$PV_BIN" serve --tftp "127.0.0.1:$TFTP_PORT" --http "127.0.0.1:$HTTP_PORT" \
  --https "127.0.0.1:$HTTPS_PORT" --admin "127.0.0.1:$ADMIN_PORT" --portal off
expect_eq "$(cat "$T/.err")" \
  "provisor: serve: TFTP bind 127.0.0.1:$TFTP_PORT: Address already in use (another server holds the port)" \
  "a port in use"
serve_stop

# A lost server certificate is issued again by the same CA.
rm "$D/tls/server.pem"
serve_start third
expect_eq "$(cert_sha256 "$D/tls/ca.pem")" "$ca_fp" "CA kept"
[ "$(cert_sha256 "$D/tls/server.pem")" != "$server_fp" ] || fail "server certificate not reissued"; ok
expect_status 0 openssl verify -CAfile "$D/tls/ca.pem" "$D/tls/server.pem"
serve_stop

# Configuration: file + flags, --print-config, errors with file:line.
cat >"$T/provisor.conf" <<CONF
[server]
workers = 3
[tftp]
listen = off
max_transfers = 77
[limits]
max_body_bytes = 64K
CONF
expect_status 0 "$PV_BIN" serve --config "$T/provisor.conf" --workers 1 --print-config
printed=$(cat "$T/.out")
expect_contains "$printed" "workers = 1" "flag overrides the file"
expect_contains "$printed" "max_transfers = 77" "file value"
expect_contains "$printed" "max_body_bytes = 65536" "size suffix"
expect_contains "$printed" "[tftp]"$'\n'"listen = off" "listener off"
expect_contains "$printed" "root = $D/profiles" "root derived from \$PROVISOR_DATA"
printf '[server]\nworkers = 1\n[http]\nlisten = 127.0.0.1:80x\n' >"$T/bad.conf"
expect_status 2 "$PV_BIN" serve --config "$T/bad.conf"
expect_contains "$(cat "$T/.err")" "$T/bad.conf:4: [http] listen (--http): '127.0.0.1:80x' is not allowed; expected HOST:PORT" \
  "error names file, line, key and what is allowed"
printf '[server]\nthreads = 2\n' >"$T/bad.conf"
expect_status 2 "$PV_BIN" serve --config "$T/bad.conf"
expect_contains "$(cat "$T/.err")" "bad.conf:2: [server] threads: unknown key" "unknown key"
expect_status 2 "$PV_BIN" serve --no-such-option
expect_contains "$(cat "$T/.err")" "unknown option '--no-such-option'" "unknown flag"
expect_status 2 "$PV_BIN" serve --workers
expect_contains "$(cat "$T/.err")" "needs a value" "flag without value"
expect_status 2 "$PV_BIN" serve --client-cert sometimes
expect_contains "$(cat "$T/.err")" "none, optional or required" "bad flag value"
expect_status 0 "$PV_BIN" serve --help
for f in --data-dir --root --tftp --http --https --admin --tls-cert --tls-key --client-ca \
  --client-cert --workers --log-level --upload-dir --config; do
  expect_contains "$(cat "$T/.out")" "$f" "--help documents $f"
done
# docs/configuration.md documents every flag --help lists.
for f in $(grep -oE '^  --[a-z0-9-]+' "$T/.out" | tr -d ' '); do
  grep -q -- "\`$f " "$PV_SRC/docs/configuration.md" || fail "docs/configuration.md lacks $f"; ok
done

# A port already taken: a clear error, exit 1.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)' >"$T/busy" &
busy_pid=$!
PV_CLEANUP+=("kill $busy_pid")
wait_log "$T/busy" '^[0-9]+$' 5
expect_status 1 "$PV_BIN" serve --http "127.0.0.1:$(cat "$T/busy")" --tftp off --https off --admin off --portal off
expect_contains "$(cat "$T/.err")" "127.0.0.1:$(cat "$T/busy")" "bind error names the address"
done_ok
