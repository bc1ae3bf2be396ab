#!/usr/bin/env bash
# The systemd readiness protocol (sd_notify(3)) spoken by `provisor serve` (issue 17): a
# datagram socket of the test stands in for systemd's $NOTIFY_SOCKET and reads READY=1 once
# the server serves, RELOADING=1 then READY=1 around a SIGHUP, WATCHDOG=1 while the loops
# answer, STOPPING=1 on SIGTERM. The same run logs as JSON (--log-format json): every line of
# its standard error is one JSON object, and UTF-8 in a request is written as UTF-8.
# Covers src/server/sd_notify.c and daemon_control.c (reload, watchdog, drain signals).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

SOCK="$T/notify.sock"
# The fake service manager: one line per datagram in $T/notify.log, the newlines of a
# message turned into '|'; bounded to 10 minutes and 10000 messages.
python3 - "$SOCK" "$T/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1)
deadline = time.time() + 600
with open(sys.argv[2], "a", buffering=1) as out:
    for _ in range(10000):
        if time.time() > deadline:
            break
        try:
            msg = s.recv(4096)
        except socket.timeout:
            continue
        out.write(msg.decode("utf-8", "replace").replace("\n", "|") + "\n")
PY
reader=$!
PV_CLEANUP+=("kill $reader 2>/dev/null")
wait_for 5 "the fake NOTIFY_SOCKET is bound" test -S "$SOCK"
touch "$T/notify.log"

notified() { grep -qE -- "$1" "$T/notify.log"; }
# at_least N PATTERN — N messages match PATTERN (counted at each poll of wait_for)
at_least() { [ "$(grep -cE -- "$2" "$T/notify.log" || true)" -ge "$1" ]; }

serve_ports
# systemd passes WATCHDOG_USEC (WatchdogSec=) and WATCHDOG_PID; 400 ms: a ping every 200 ms.
NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=400000 "$PV_BIN" serve --data-dir "$T/data" \
  --tftp "127.0.0.1:$TFTP_PORT" --http "127.0.0.1:$HTTP_PORT" --https "127.0.0.1:$HTTPS_PORT" \
  --admin "127.0.0.1:$ADMIN_PORT" --portal off --log-format json >"$T/run.out" 2>"$T/run.log" &
SERVE_PID=$!
PV_CLEANUP+=("kill -9 $SERVE_PID 2>/dev/null")
wait_log "$T/run.log" '"event":"server.started"'

wait_for 10 "READY=1 after the start" notified '^READY=1'
expect_eq "$(head -n1 "$T/notify.log" | cut -d'|' -f1)" "READY=1" "the first message is READY=1"
wait_for 10 "WATCHDOG=1 while the loops answer" notified '^WATCHDOG=1$'
# Several pets, not one: the timer keeps going while every loop answers its ping.
wait_for 10 "three WATCHDOG=1" at_least 3 '^WATCHDOG=1$'

kill -HUP "$SERVE_PID"
wait_log "$T/run.log" '"event":"config.reloaded"'
wait_for 10 "RELOADING=1 then READY=1 around the reload" \
  sh -c "grep -nE '^(RELOADING|READY)=1' '$T/notify.log' | tail -n2 | cut -d'|' -f1 | cut -d: -f2 | tr '\n' ' ' | grep -qx 'RELOADING=1 READY=1 '"
expect_contains "$(grep '^RELOADING=1' "$T/notify.log")" "MONOTONIC_USEC=" "RELOADING=1 says when"

# A path with UTF-8 and a control byte: the request's log line carries "…" as UTF-8.
curl -sS -o /dev/null --path-as-is "http://127.0.0.1:$HTTP_PORT/caf%C3%A9/$(printf '\xe2\x80\xa6')x.xml" || true

kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=
expect_eq "$rc" 0 "exit status after SIGTERM"
wait_for 10 "STOPPING=1 on SIGTERM" notified '^STOPPING=1'

# --log-format json: every line an object with ts, level and event.
python3 - "$T/run.log" <<'PY' || fail "a log line is not a JSON object with ts, level, event"
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert isinstance(o, dict) and {"ts", "level", "event"} <= o.keys(), line
    n += 1
assert n >= 5, n
PY
ok
expect_contains "$(grep -F 'x.xml' "$T/run.log" || true)" "$(printf '\xe2\x80\xa6')x.xml" \
  "UTF-8 in a request path is logged as UTF-8"

# Without NOTIFY_SOCKET nothing is sent and nothing fails (started by hand).
before=$(wc -l <"$T/notify.log")
serve_start plain --data-dir "$T/data"
serve_stop
expect_eq "$(wc -l <"$T/notify.log")" "$before" "no message without NOTIFY_SOCKET"

done_ok
