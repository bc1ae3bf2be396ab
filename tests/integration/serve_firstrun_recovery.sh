#!/usr/bin/env bash
# The first run's rough edges (issue 10): a first start that fails leaves no data directory
# behind (so the next start shows its admin token), an existing one is never removed; a lost
# admin token is replaced by `provisor admin-token`, at once also in a running server; `provisor
# phone cert` issues a phone certificate from the data directory's demo manufacturer CA that
# the server accepts.
# Covers src/cli/cmd_datadir.c, src/cli/cmd_serve.c (undo_first_run), src/server/datadir.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
export PROVISOR_DATA="$D"
serve_ports

# --- a failed first start leaves nothing behind ----------------------------------------------
dead=$(free_port tcp)
expect_status 1 "$PV_BIN" serve --data-dir "$D" --db "postgresql://provisor@127.0.0.1:$dead/provisor" \
  --tftp "127.0.0.1:$TFTP_PORT" --http "127.0.0.1:$HTTP_PORT" --https "127.0.0.1:$HTTPS_PORT" \
  --admin "127.0.0.1:$ADMIN_PORT" --portal off
[ ! -e "$D" ] || fail "a failed first start (store unreachable) left $D: $(ls -A "$D")"; ok
# a listener that cannot bind: the port is taken by a listener of our own
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print("ready", flush=True); time.sleep(120)' \
  "$HTTP_PORT" >"$T/holder.out" &
HOLDER=$!
PV_CLEANUP+=("kill $HOLDER 2>/dev/null")
wait_for 10 "the port holder listening" grep -q ready "$T/holder.out"
expect_status 1 "$PV_BIN" serve --tftp "127.0.0.1:$TFTP_PORT" --http "127.0.0.1:$HTTP_PORT" \
  --https "127.0.0.1:$HTTPS_PORT" --admin "127.0.0.1:$ADMIN_PORT" --portal off
expect_contains "$(cat "$T/.err")" "$HTTP_PORT" "the error names the address"
[ ! -e "$D" ] || fail "a failed first start (port taken) left $D: $(ls -A "$D")"; ok
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true

# the next start is a first start: it shows its admin token
serve_start first
token=$(grep -A1 '^Admin token' "$T/first.out" | tail -1 | tr -d ' ')
[[ "$token" =~ ^pv_[0-9a-f]{48}$ ]] || fail "admin token not shown after a failed start"; ok
api() { curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" \
  "http://127.0.0.1:$ADMIN_PORT/api/v1/accounts"; }
expect_eq "$(api "$token")" 200 "the first token works"

# --- a lost admin token: a new one, at once, in the running server ---------------------------
expect_status 0 "$PV_BIN" admin-token --data-dir "$D"
new=$(tr -d '\n' <"$T/.out")
[[ "$new" =~ ^pv_[0-9a-f]{48}$ ]] || fail "admin-token printed '$new'"; ok
expect_eq "$(api "$new")" 200 "the new token works in the running server"
expect_eq "$(api "$token")" 401 "the lost token no longer does"
expect_eq "$(stat -c %a "$D/admin-token.sha256")" 600 "mode of the new hash"
grep -q "$new" -r "$D" && fail "the new token itself is stored"; ok
expect_status 1 "$PV_BIN" admin-token --data-dir "$T/nowhere"
expect_contains "$(cat "$T/.err")" "not a data directory" "admin-token on a wrong directory"
[ ! -e "$T/nowhere" ] || fail "admin-token created a directory"; ok
expect_status 2 "$PV_BIN" admin-token --bogus

# --- a phone certificate from the demo manufacturer CA ---------------------------------------
expect_status 0 "$PV_BIN" phone cert --mac 00:0E:08:AB:CD:EF --model SPA504G --out "$T/phone.pem"
expect_eq "$(stat -c %a "$T/phone.pem")" 600 "the key file is private"
expect_status 0 openssl verify -CAfile "$D/manufacturer/demo-ca.pem" "$T/phone.pem"
subj=$(openssl x509 -in "$T/phone.pem" -noout -subject -nameopt RFC2253)
expect_contains "$subj" "ST=000e08abcdef" "MAC in ST (spec 4.4)"
expect_contains "$subj" "OU=SPA504G" "model in OU"
expect_contains "$subj" "L=FCH08abcdef" "default serial in L"
# the server reads that identity from it over HTTPS
curl -sS --cacert "$D/tls/ca.pem" --cert "$T/phone.pem" -o /dev/null \
  "https://127.0.0.1:$HTTPS_PORT/sample.xml" || fail "HTTPS with the phone certificate"
wait_log "$T/first.log" 'proto=https .*identity=000e08abcdef .*path=/sample.xml'
ok
expect_status 2 "$PV_BIN" phone cert --model SPA504G
expect_contains "$(cat "$T/.err")" "--mac" "phone cert without --mac"
expect_status 2 "$PV_BIN" phone cert --mac 00:0e:08
expect_status 1 "$PV_BIN" phone cert --mac 000e08abcdef --data-dir "$T/nowhere" --out "$T/x.pem"
expect_contains "$(cat "$T/.err")" "demo-ca.pem" "phone cert names the missing CA"
serve_stop

# --- a failed start never removes a data directory that existed ------------------------------
dead=$(free_port tcp)
expect_status 1 "$PV_BIN" serve --db "postgresql://provisor@127.0.0.1:$dead/provisor" \
  --tftp "127.0.0.1:$TFTP_PORT" --http "127.0.0.1:$HTTP_PORT" --https "127.0.0.1:$HTTPS_PORT" \
  --admin "127.0.0.1:$ADMIN_PORT" --portal off
[ -s "$D/tls/ca.pem" ] && [ -s "$D/provisor.db" ] || fail "an existing data directory was touched"; ok
done_ok
