#!/usr/bin/env bash
# SIGTERM drains (issue 3): listeners stop accepting, a download in flight
# completes, the process exits 0. With a short drain timeout the process
# still exits 0, on time, cutting what did not finish.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
serve_ports
serve_start run --data-dir "$D" --workers 2
head -c $((24 * 1024 * 1024)) /dev/urandom >"$D/profiles/big.bin"

start_slow() { # start_slow OUTPUT — a ~3 s download over HTTP
  curl -sS --limit-rate 8M -o "$1" "http://127.0.0.1:$HTTP_PORT/big.bin" 2>"$1.err" &
  slow=$!
  local i=0
  until [ -s "$1" ]; do
    i=$((i + 1)); [ $i -lt 200 ] || fail "slow download did not start"; sleep 0.05
  done
}

start_slow "$T/slow.bin"
kill -TERM "$SERVE_PID"
wait_log "$T/run.log" "event=server.draining"
kill -0 "$SERVE_PID" 2>/dev/null || fail "server exited before the download finished"; ok
# No new connections while draining.
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/sample.xml" 2>/dev/null || true)" \
  000 "new connection refused while draining"
wait "$slow" || fail "download cut by the drain: $(cat "$T/slow.bin.err")"
same_file "$T/slow.bin" "$D/profiles/big.bin" "download completed during the drain"
rc=0
wait "$SERVE_PID" || rc=$?
expect_eq "$rc" 0 "exit status after draining"
expect_status 0 grep -q "event=server.stopped" "$T/run.log"

# A drain timeout bounds the wait.
serve_start short --data-dir "$D" --drain-timeout-ms 300
start_slow "$T/cut.bin"
t0=$(date +%s%N)
kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "$rc" 0 "exit status after a drain timeout"
[ "$elapsed_ms" -lt 2000 ] || fail "drain took ${elapsed_ms} ms with a 300 ms timeout"; ok
wait "$slow" && fail "download completed though the drain timed out"; ok
done_ok
