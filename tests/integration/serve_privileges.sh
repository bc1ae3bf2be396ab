#!/usr/bin/env bash
# DESIGN decision 2: a port below 1024 is bound as root, then the process
# becomes [server] user (nobody by default) and keeps serving. Needs root;
# skipped (and says so) otherwise.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

if [ "$(id -u)" != 0 ]; then
  echo "skipped: serve_privileges needs root"
  exit 0
fi
# A free privileged TCP port on loopback.
low=$(python3 - <<'PY'
import socket
for port in range(1023, 600, -1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break
PY
)
[ -n "$low" ] || fail "no free port below 1024"
D="$T/data"
serve_ports
HTTP_PORT=$low
serve_start run --data-dir "$D" --workers 1
expect_contains "$(cat "$T/run.log")" "event=privileges.dropped user=nobody" "privileges dropped"
expect_eq "$(awk '/^Uid:/ { print $2 }' "/proc/$SERVE_PID/status")" \
  "$(id -u nobody)" "real uid after the drop"
expect_eq "$(curl -sS "http://127.0.0.1:$low/sample.xml" | head -1)" "<flat-profile>" \
  "serving on the privileged port after the drop"
serve_stop

# Unprivileged ports only: nothing to drop.
serve_ports
serve_start plain --data-dir "$D" --workers 1
grep -q "privileges.dropped" "$T/plain.log" && fail "dropped privileges without a reason"; ok
serve_stop

# An unknown user is an error before serving.
serve_ports
expect_status 1 "$PV_BIN" serve --data-dir "$D" --http "127.0.0.1:$low" --user no-such-user-pv \
  --tftp off --https off --admin off --portal off
expect_contains "$(cat "$T/.err")" "no-such-user-pv: no such user" "unknown user"
done_ok
