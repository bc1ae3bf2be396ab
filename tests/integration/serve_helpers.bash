# serve_helpers.bash — sourced by tests/integration/serve_*.sh after lib.sh:
# start `provisor serve` on free loopback ports and wait for it to be ready.
# (Not a .sh file, so CTest does not run it as a test of its own.)

# serve_ports — picks free ports: TFTP_PORT (udp), HTTP_PORT, HTTPS_PORT, ADMIN_PORT.
serve_ports() {
  TFTP_PORT=$(free_port udp)
  HTTP_PORT=$(free_port tcp)
  HTTPS_PORT=$(free_port tcp)
  ADMIN_PORT=$(free_port tcp)
  while [ "$HTTPS_PORT" = "$HTTP_PORT" ]; do HTTPS_PORT=$(free_port tcp); done
  while [ "$ADMIN_PORT" = "$HTTP_PORT" ] || [ "$ADMIN_PORT" = "$HTTPS_PORT" ]; do
    ADMIN_PORT=$(free_port tcp)
  done
}

# wait_log FILE PATTERN [SECONDS] — waits until FILE has a line matching PATTERN
# (grep -E); fails early if the server died.
wait_log() {
  local file=$1 pattern=$2 limit=${3:-20} i=0
  while ! grep -qE -- "$pattern" "$file" 2>/dev/null; do
    if [ -n "${SERVE_PID:-}" ] && ! kill -0 "$SERVE_PID" 2>/dev/null; then
      fail "server exited while waiting for '$pattern'; log: $(tail -c 2000 "$file")"
    fi
    i=$((i + 1))
    [ $i -le $((limit * 20)) ] || fail "no '$pattern' in $file after ${limit}s: $(tail -c 2000 "$file")"
    sleep 0.05
  done
}

# serve_start NAME ARGS... — runs `provisor serve` on the ports of serve_ports with
# ARGS, logs in $T/NAME.log, stdout in $T/NAME.out; returns when event=server.started
# is logged (after every listener.ready). Sets SERVE_PID; the server is killed on exit.
serve_start() {
  local name=$1
  shift
  "$PV_BIN" serve --tftp "127.0.0.1:$TFTP_PORT" --http "127.0.0.1:$HTTP_PORT" \
    --https "127.0.0.1:$HTTPS_PORT" --admin "127.0.0.1:$ADMIN_PORT" "$@" \
    >"$T/$name.out" 2>"$T/$name.log" &
  SERVE_PID=$!
  PV_CLEANUP+=("kill -9 $SERVE_PID 2>/dev/null")
  wait_log "$T/$name.log" "event=server.started"
}

# serve_stop — SIGTERM, then checks the exit status is 0.
serve_stop() {
  kill -TERM "$SERVE_PID"
  local rc=0
  wait "$SERVE_PID" || rc=$?
  expect_eq "$rc" 0 "exit status after SIGTERM"
  SERVE_PID=
}

# metric NAME_AND_LABELS — the value of one sample from the admin /metrics, or 0.
metric() {
  curl -sS "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}

# cert_sha256 FILE — SHA-256 fingerprint of a PEM certificate, lower-case hex.
cert_sha256() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
