#!/usr/bin/env bash
# "Both cores used" (issue 3): with --workers 2 the loops share one listening
# socket per address (each polls a dup), so separate connections and TFTP
# requests reach both loops, as provisor_loop_requests_total{loop} shows. Without --workers there
# is one loop per core.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
serve_ports
serve_start run --data-dir "$D" --workers 2
expect_contains "$(cat "$T/run.log")" "event=server.started workers=2" "two loops"
threads=$(ls "/proc/$SERVE_PID/task" | wc -l)
[ "$threads" -ge 3 ] || fail "expected the control thread and two loop threads, got $threads"; ok

# 40 connections (one per curl process, each from its own source port) in parallel.
pids=()
for i in $(seq 1 40); do
  curl -sS -o "$T/r$i.xml" "http://127.0.0.1:$HTTP_PORT/sample.xml" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent request failed"; done
for i in $(seq 1 40); do same_file "$T/r$i.xml" "$D/profiles/sample.xml" "response $i"; done
for i in $(seq 1 8); do
  curl -sS -o "$T/t$i.xml" "tftp://127.0.0.1:$TFTP_PORT/sample.xml"
  same_file "$T/t$i.xml" "$D/profiles/sample.xml" "TFTP transfer $i"
done

m1=$(metric 'provisor_loop_requests_total{loop="1"}')
m2=$(metric 'provisor_loop_requests_total{loop="2"}')
[ "$m1" -gt 0 ] && [ "$m2" -gt 0 ] || fail "one loop served everything: loop1=$m1 loop2=$m2"; ok
# Every request counted once, on one of the loops (the /metrics request itself is
# counted when it finishes, after rendering: at most one of the reads above).
total=$((m1 + m2))
[ "$total" -ge 48 ] && [ "$total" -le 50 ] || fail "loop counts add to $total, want 48..50"; ok
serve_stop

# Default: one loop per core.
serve_start default --data-dir "$D"
expect_contains "$(cat "$T/default.log")" "event=server.started workers=$(nproc)" "one loop per core"
serve_stop
done_ok
