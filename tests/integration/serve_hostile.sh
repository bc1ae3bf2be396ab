#!/usr/bin/env bash
# Hostile peers against the real daemon (issue 3, Acceptance "Bad input"): `provisor
# serve` with every listener, 2 workers and the provisioning handler, under valgrind
# (memcheck, definite/indirect leaks are errors, --track-fds) — or, in a PV_SAN=ON
# build, with ASan/UBSan already in the binary. tests/tools/hostile_peer.py plays each
# attack and checks the answer is an error or a close; after every attack a real
# client (curl) must still get a good answer. Then: no descriptor more than after
# start-up, SIGTERM exits 0, and valgrind (or ASan) reports no error, no leak and no
# descriptor left open.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

HOSTILE=(python3 "$PV_SRC/tests/tools/hostile_peer.py")
case "${PV_SAN:-OFF}" in
[Oo][Nn] | 1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss]) san=1 ;;
*) san=0 ;;
esac
if [ $san = 1 ]; then
  WRAP=() # ASan is in the binary; valgrind cannot run it
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
else
  command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/deps.sh)"
  WRAP=(valgrind --leak-check=full "--errors-for-leak-kinds=definite,indirect"
    --error-exitcode=99 --track-fds=yes --log-file="$T/vg.log")
fi

D="$T/data"
serve_ports
# Short limits, so that slow clients and vanished peers are dealt with within the test.
"${WRAP[@]}" "$PV_BIN" serve --data-dir "$D" --workers 2 \
  --tftp "127.0.0.1:$TFTP_PORT" --http "127.0.0.1:$HTTP_PORT" \
  --https "127.0.0.1:$HTTPS_PORT" --admin "127.0.0.1:$ADMIN_PORT" --portal off \
  --limits-request-timeout-ms 4000 --limits-handshake-timeout-ms 4000 \
  --limits-idle-timeout-ms 6000 --limits-max-body-bytes 64K --limits-max-per-source 8 \
  --tftp-timeout-ms 300 --tftp-max-retries 2 --drain-timeout-ms 3000 \
  >"$T/run.out" 2>"$T/run.log" &
SERVE_PID=$!
PV_CLEANUP+=("kill -9 $SERVE_PID 2>/dev/null")
wait_log "$T/run.log" "event=server.started" 60

R="$D/profiles"
CA="$D/tls/ca.pem"
head -c 100000 /dev/urandom >"$R/mid.bin"
truncate -s 50M "$R/big.bin" # the one large file: a disconnect mid-response
ln -s /etc/passwd "$R/escape.txt"
ln -s /etc "$R/etcdir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rogue.key" \
  -subj "/CN=rogue" -days 1 -out "$T/rogue.pem" 2>/dev/null

# ---- good clients ----
alive() { kill -0 "$SERVE_PID" 2>/dev/null || fail "server died: $(tail -c 3000 "$T/run.log")"; }
good_http() {
  curl -sS --max-time 120 -o "$T/good" "http://127.0.0.1:$HTTP_PORT/sample.xml" ||
    fail "good HTTP request after '$LAST' failed"
  same_file "$T/good" "$R/sample.xml" "HTTP after '$LAST'"
}
good_https() {
  curl -sS --max-time 120 --cacert "$CA" -o "$T/good" "https://127.0.0.1:$HTTPS_PORT/sample.xml" ||
    fail "good HTTPS request after '$LAST' failed"
  same_file "$T/good" "$R/sample.xml" "HTTPS after '$LAST'"
}
good_tftp() {
  curl -sS --max-time 120 -o "$T/good" "tftp://127.0.0.1:$TFTP_PORT/sample.xml" ||
    fail "good TFTP request after '$LAST' failed"
  same_file "$T/good" "$R/sample.xml" "TFTP after '$LAST'"
}
good_admin() {
  expect_eq "$(curl -sS --max-time 120 "http://127.0.0.1:$ADMIN_PORT/healthz")" ok \
    "admin after '$LAST'"
}

# hit GOOD PROTO PORT CASE [ARG...] — one attack, then a good request of kind GOOD.
LAST=start
hit() {
  local good=$1 out
  shift
  LAST="$1 $3 ${4:-}"
  out=$("${HOSTILE[@]}" "$@" 2>&1) || fail "$out; server log: $(tail -c 1500 "$T/run.log")"
  ok
  echo "  $out"
  alive
  "good_$good"
}

# fds — the server's open descriptors, one "fd target" a line (sockets by inode), but for
# connected UDP sockets: those are TFTP transfer sockets, kept in a per-loop pool of up to 64
# idle ones (src/net/tftp_sock.h) when their transfer ends; fds counts them in $T/pooled.
# Descriptors the server inherited from this script (ctest's log file, renamed or deleted by
# ctest meanwhile) are not the server's: one the script holds under the same number and with the
# same target is left out.
fds() {
  local udp
  udp=$(awk 'NR > 1 && $3 !~ /^0+:0000$/ { print $10 }' /proc/net/udp /proc/net/udp6 2>/dev/null |
    sort -u | tr '\n' ' ')
  (cd "/proc/$SERVE_PID/fd" && for f in *; do
    t=$(readlink "$f") || continue
    [ "$(readlink "/proc/$$/fd/$f" 2>/dev/null)" = "$t" ] && continue
    echo "$f $t"
  done) | sort |
    awk -v udp=" $udp" '
      { ino = $2; gsub(/[^0-9]/, "", ino) }
      $2 ~ /^socket:/ && index(udp, " " ino " ") { pooled++; next }
      { print }
      END { print pooled + 0 > "'"$T/pooled"'" }'
}

# Warm both loops and the admin API up (SQLite handles, caches), then remember the descriptors.
for _ in 1 2 3 4; do good_http; good_https; good_tftp; done
good_admin
TOK=$(grep -oE 'pv_[0-9a-f]{40,}' "$T/run.out" | head -1) # printed once, on the first run
[ -n "$TOK" ] || fail "no admin token in: $(cat "$T/run.out")"
curl -sS --max-time 120 -o /dev/null -H "Authorization: Bearer $TOK" \
  "http://127.0.0.1:$ADMIN_PORT/api/v1/accounts" || fail "admin API"
# Settled: no transfer or connection open but the admin one asking for /metrics.
settled() {
  [ "$(metric 'provisor_open{proto="tftp"}')" = 0 ] && [ "$(metric 'provisor_open{proto="http"}')" = 1 ] &&
    [ "$(metric 'provisor_open{proto="https"}')" = 0 ]
}
WAIT_DIAG="curl -sS http://127.0.0.1:$ADMIN_PORT/metrics | grep provisor_open" \
  wait_for 10 "transfers and connections of the warm-up closed" settled
fds >"$T/fds.before"
[ "$(wc -l <"$T/fds.before")" -gt 10 ] || fail "cannot list the server's descriptors: $(cat "$T/fds.before")"
ok

TF=(tftp 127.0.0.1 "$TFTP_PORT")
# ---- TFTP: malformed requests, each answered by an ERROR ----
# From 127.0.0.2, so that the per-source limits they trip do not touch the good client.
for c in truncated no-nul no-mode oversized garbage opcode9 opcode0 data-to-listener \
  ack-to-listener option-flood option-count bad-mode; do
  hit tftp "${TF[@]}" "$c" --src 127.0.0.2
done
for v in 0 70000; do hit tftp "${TF[@]}" blksize "$v" --src 127.0.0.2; done
for p in ../../etc/passwd /etc/passwd escape.txt etcdir/passwd sub/../../etc/passwd; do
  hit tftp "${TF[@]}" rrq-error "$p" --src 127.0.0.2
done
# RFC 2349 timeout 255: declined (over the server's longest wait), so that one request never
# acknowledged does not hold a transfer for minutes; the server's own timer retransmits.
hit tftp "${TF[@]}" long-timeout 255 --src 127.0.0.2 --hold 10
hit tftp "${TF[@]}" long-timeout 11 --src 127.0.0.2 --hold 10
# Vanished peers: one whose port is closed (ICMP ends the transfer), and two that stay
# silent (the server retransmits, then gives up) — these two in the background.
hit tftp "${TF[@]}" vanish mid.bin --src 127.0.0.2
"${HOSTILE[@]}" "${TF[@]}" vanish mid.bin --src 127.0.0.4 --hold 8 >"$T/vanish1.out" 2>&1 &
vanish1=$!
"${HOSTILE[@]}" "${TF[@]}" vanish-write report/000e08abcdef.xml --src 127.0.0.4 --hold 8 \
  >"$T/vanish2.out" 2>&1 &
vanish2=$!
LAST="silent TFTP peers"
good_tftp
# 200 write requests that never send data: at most 16 (--tftp-max-per-source) per loop at a
# time. An admitted one that never answers lives at least one --tftp-timeout-ms (300 ms: its
# ACK is sent again only while the address's budget affords it, net/tftp_transfer.c), so ACKs
# within 0.25 s of each other are of transfers alive together.
hit tftp "${TF[@]}" wrq-flood report/000e08abcdef.xml --src 127.0.0.3 --limit 32 --lifetime 0.25
# Uploads whose names try to leave the upload directory.
for n in ../wrq-escape1 ../../wrq-escape2 "$T/wrq-escape3" a/../../wrq-escape4 .hidden; do
  hit tftp "${TF[@]}" wrq-write "$n" --src 127.0.0.2
done

# ---- HTTP ----
HT=(http 127.0.0.1 "$HTTP_PORT")
for c in garbage bad-version nul-in-header big-header many-headers long-uri chunk-lie \
  chunk-overflow chunk-garbage cl-and-te two-cl negative-cl huge-cl chunked-over-limit \
  truncated-body reset-mid-request reset-mid-body; do
  hit http "${HT[@]}" "$c"
done
for p in /../etc/passwd /../../../../etc/passwd /%2e%2e/%2e%2e/etc/passwd \
  /..%2f..%2fetc%2fpasswd /%2E%2E%2F%2E%2E%2Fetc/passwd /sample.xml%00.txt /%00 \
  /escape.txt /etcdir/passwd //etc/passwd; do
  hit http "${HT[@]}" path "$p"
done
for p in /../put-escape1 /%2e%2e/put-escape2 /report/..%2f..%2fput-escape3; do
  hit http "${HT[@]}" put "$p"
done
hit http "${HT[@]}" mid-response /big.bin

# Slow clients, all at once, while good ones are served: a slowloris, readers that stop
# reading a 50 MB answer, and connection floods (over --limits-max-per-source) that send
# nothing, on HTTP and HTTPS.
bg=()
background() { # background NAME ARGS... — an attack running while the battery goes on
  "${HOSTILE[@]}" "${@:2}" >"$T/bg.$1" 2>&1 &
  bg+=("$!:$1")
}
background slowloris "${HT[@]}" slowloris 15
background slow-http "${HT[@]}" slow-reader /big.bin --hold 8
background slow-https tls 127.0.0.1 "$HTTPS_PORT" slow-reader /big.bin --hold 8 --ca "$CA"
background flood-http "${HT[@]}" conn-flood 40 --hold 15 --src 127.0.0.5
background flood-https tls 127.0.0.1 "$HTTPS_PORT" conn-flood 40 --hold 15 --src 127.0.0.6
LAST="slow clients and connection floods"
# The floods hold their connections (seen by the kernel, whatever the server is doing with
# them) before the good clients ask.
in_flight() {
  [ -n "$(ss -Htn "src 127.0.0.5 and dst 127.0.0.1:$HTTP_PORT")" ] &&
    [ -n "$(ss -Htn "src 127.0.0.6 and dst 127.0.0.1:$HTTPS_PORT")" ]
}
wait_for 10 "connection floods connected" in_flight
good_http
good_https

# ---- HTTPS ----
TL=(tls 127.0.0.1 "$HTTPS_PORT")
for c in garbage fake-record plain-http half-hello mid-handshake; do
  hit https "${TL[@]}" "$c"
done
hit https "${TL[@]}" half-hello-wait 15
hit https "${TL[@]}" rogue-cert --ca "$CA" --cert "$T/rogue.pem" --key "$T/rogue.key"
hit https "${TL[@]}" mid-response /big.bin --ca "$CA"

# Client-initiated renegotiation (TLS 1.2), a CPU sink: refused.
# s_client reads "R" from a pipe held open until the server has answered it.
mkfifo "$T/reneg.in"
openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -tls1_2 -CAfile "$CA" <"$T/reneg.in" \
  >"$T/reneg.out" 2>&1 &
reneg=$!
PV_CLEANUP+=("kill $reneg 2>/dev/null")
exec 7>"$T/reneg.in"
WAIT_DIAG="cat '$T/reneg.out'" wait_for 10 "TLS 1.2 session up" grep -q "Verify return code" "$T/reneg.out"
echo R >&7
WAIT_DIAG="cat '$T/reneg.out'" wait_for 10 "renegotiation answered" grep -q "no renegotiation" "$T/reneg.out"
exec 7>&-
wait "$reneg" || true
expect_contains "$(cat "$T/reneg.out")" RENEGOTIATING "s_client tried to renegotiate"
expect_contains "$(cat "$T/reneg.out")" "no renegotiation" "renegotiation refused"
LAST="renegotiation"
good_https

# ---- admin ----
for c in bad-method-metrics post-metrics garbage big-header; do
  hit admin http 127.0.0.1 "$ADMIN_PORT" "$c"
done
# The admin API: refused without the token, and garbage JSON bodies answered 400/413/422.
api() { # api WANT PATH BODY-FILE [CURL-ARGS...] — one POST, its status in WANT (a regex)
  local want=$1 path=$2 body=$3 got
  shift 3
  got=$(curl -sS --max-time 120 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "@$body" "$@" "http://127.0.0.1:$ADMIN_PORT/api/v1/$path")
  [[ $got =~ ^($want)$ ]] || fail "POST /api/v1/$path with $(head -c 60 "$body"): $got, want $want"
  ok
}
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
bodies = {
    "garbage": b"\xff\xfe{{{", "deep": b"[" * 100000 + b"]" * 100000,
    "deepobj": b'{"a":' * 5000 + b"1" + b"}" * 5000, "nul": b'{"name":"a\\u0000b"}',
    "array": b"[1,2,3]", "types": b'{"name":123,"mac":[],"account":{}}',
    "dupkeys": b'{"name":"a","name":"b"}', "hugenum": b'{"n":1e999999}', "empty": b"",
    "long": b'{"name":"' + b"a" * 300000 + b'"}',
}
for name, body in bodies.items():
    open("%s/json.%s" % (t, name), "wb").write(body)
PY
api 401 accounts "$T/json.array"
api '401|403' accounts "$T/json.array" -H "Authorization: Bearer pv_$(printf '0%.0s' {1..48})"
for b in garbage deep deepobj nul array types dupkeys hugenum empty long; do
  for path in accounts devices tokens devices:import firmware; do
    api '400|413|422' "$path" "$T/json.$b" -H "Authorization: Bearer $TOK"
  done
done
LAST="admin API garbage"
good_admin

# Every loop still serves, and the attacks were counted.
LAST="the battery"
for v in $vanish1 $vanish2; do
  wait "$v" || fail "silent TFTP peer: $(cat "$T/vanish1.out" "$T/vanish2.out")"
  ok
done
echo "  $(cat "$T/vanish1.out")"
echo "  $(cat "$T/vanish2.out")"
for b in "${bg[@]}"; do
  wait "${b%%:*}" || fail "$(cat "$T/bg.${b#*:}")"
  ok
  echo "  $(cat "$T/bg.${b#*:}")"
done
# Nothing was written outside the upload directory.
escaped=$(find "$T" -name '*-escape*' -not -path "$D/uploads/*")
[ -z "$escaped" ] || fail "upload escaped the upload directory: $escaped"
ok
for _ in 1 2 3 4; do good_http; good_https; good_tftp; done
# Vanished TFTP peers (2 + the admitted WRQs of the flood) are abandoned on their own; the
# one HTTP connection left open is the admin one asking for /metrics.
WAIT_DIAG="curl -sS http://127.0.0.1:$ADMIN_PORT/metrics | grep provisor_open" \
  wait_for 20 "transfers and connections of the attacks closed" settled
ok
timeouts=$(metric provisor_tftp_timeouts_total)
[ "$timeouts" -ge 2 ] || fail "silent TFTP peers not timed out: $timeouts"; ok
[ "$(metric 'provisor_tls_handshakes_total{kind="failed"}')" -ge 5 ] || fail "failed handshakes not counted"; ok
[ "$(metric 'provisor_refused_total{proto="tftp"}')" -ge 20 ] || fail "TFTP refusals not counted"; ok

# No descriptor more than after start-up (the admin connection of `metric` may linger a moment).
same_fds() { fds >"$T/fds.after" && cmp -s "$T/fds.before" "$T/fds.after"; }
WAIT_DIAG='echo "descriptors leaked:"; diff "$T/fds.before" "$T/fds.after"; ss -anpe | grep "pid=$SERVE_PID," | grep -v LISTEN' \
  wait_for 10 "descriptors as after start-up" same_fds
ok
[ "$(cat "$T/pooled")" -le 128 ] || fail "$(cat "$T/pooled") TFTP sockets open, over 2 pools of 64"
ok
echo "  descriptors as after start-up, and $(cat "$T/pooled") pooled TFTP sockets"

# SIGTERM with hostile peers still in flight — a slowloris, stalled readers, a half
# ClientHello, a silent TFTP reader and writer — drains within --drain-timeout-ms, cuts
# them, and exits 0 (valgrind's --error-exitcode would make it 99); then the reports.
bg=()
tftp_timeouts_before=$(metric provisor_tftp_timeouts_total)
background slowloris2 "${HT[@]}" slowloris 30
background slow-http2 "${HT[@]}" slow-reader /big.bin --hold 10
background slow-https2 tls 127.0.0.1 "$HTTPS_PORT" slow-reader /big.bin --hold 10 --ca "$CA"
background half-hello2 tls 127.0.0.1 "$HTTPS_PORT" half-hello-wait 30
background vanish3 "${TF[@]}" vanish mid.bin --src 127.0.0.7 --hold 10
background vanish4 "${TF[@]}" vanish-write report/000e08abcdef.xml --src 127.0.0.7 --hold 10
# Under valgrind on a loaded machine the requests take a while to become transfers: poll.
# A silent peer's transfer lives about a second (--tftp-timeout-ms 300, 2 retries); a poll
# that comes later finds it already given up, which counts as having been there.
tftp_in_flight() {
  local open timed_out
  open=$(metric 'provisor_open{proto="tftp"}')
  timed_out=$(($(metric provisor_tftp_timeouts_total) - tftp_timeouts_before))
  [ $((open + timed_out)) -ge 2 ]
}
wait_for 10 "silent TFTP peers in flight (or given up)" tftp_in_flight
ok
kill -TERM "$SERVE_PID"
stop_start=$SECONDS
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=
# 3 s of drain; valgrind's exit (leak check) takes a few more.
[ $((SECONDS - stop_start)) -le 30 ] || fail "drain took $((SECONDS - stop_start)) s"; ok
for b in "${bg[@]}"; do wait "${b%%:*}" || true; done # cut by the drain: any outcome
expect_eq "$rc" 0 "exit status after SIGTERM (log: $(tail -c 1500 "$T/run.log"; tail -c 3000 "$T/vg.log" 2>/dev/null))"
if [ $san = 1 ]; then
  ! grep -qE "Sanitizer|runtime error:" "$T/run.log" || fail "sanitizer report: $(grep -A30 -m1 -E 'Sanitizer|runtime error' "$T/run.log")"
  ok
else
  grep -q "ERROR SUMMARY: 0 errors" "$T/vg.log" || fail "valgrind errors: $(tail -c 6000 "$T/vg.log")"
  ok
  grep -qE "definitely lost: [1-9]|indirectly lost: [1-9]" "$T/vg.log" && fail "leaks: $(tail -c 6000 "$T/vg.log")"
  ok
  # FILE DESCRIPTORS: each "Open ... N: ..." record is followed by where it was opened, or by
  # "<inherited from parent>"; a descriptor the server opened and left open is a leak.
  grep -q "FILE DESCRIPTORS:" "$T/vg.log" || fail "no FILE DESCRIPTORS summary in the valgrind log"
  leaked=$(sed 's/^==[0-9]*== \{0,1\}//' "$T/vg.log" | awk '
    /^Open / { if (fd != "" && !inherited && fd > 2) print rec; rec = $0; inherited = 0
               fd = $0; sub(/:.*/, "", fd); sub(/.* /, "", fd); fd += 0; n = 0; next }
    fd != "" && /<inherited from parent>/ { inherited = 1 }
    fd != "" && /^ *(at|by) / && n++ < 4 { rec = rec " /" $0 }
    fd != "" && /^$/ { if (!inherited && fd > 2) print rec; fd = "" }
    END { if (fd != "" && !inherited && fd > 2) print rec }')
  [ -z "$leaked" ] || fail "descriptors open at exit: $leaked"
  ok
fi
done_ok
