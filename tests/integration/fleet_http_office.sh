#!/usr/bin/env bash
# An office of 200 phones behind ONE address provisions over plain HTTP at once (issue 15;
# docs/provisioning.md "Limits by identity"): `provisor fleet` boots 200 phones with no random
# delay, all from 127.0.0.1, against `provisor serve` that allows an address only 20
# connections (--limits-max-per-source 20, one loop) and renders 50 requests a second, so the
# phones' connections wait in its queue, open, far more at once than the address may hold.
# Each phone asks for its own file, whose path names its MAC (/$MA.xml): a connection beyond
# the limit is kept because its request names a device the server serves — no failure, no
# refusal. The same address asking for paths that name no device is still held to its 20:
# the others get 503 with a Retry-After.
# Covers src/net/http_conn.c and http_conn_answer.c (beyond_source over plain HTTP).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

N=200
serve_ports
expect_status 0 "$PV_BIN" fleet profiles --phones $N --out "$T/root" --mix mpp \
  --server "http://127.0.0.1:$HTTP_PORT"
echo "a page that names nobody" >"$T/root/index.html"
serve_start serve --data-dir "$T/data" --root "$T/root" --workers 1 --tftp off \
  --limits-max-per-source 20 --provisioning-render-rate 50 --provisioning-queue-deadline-ms 20000

open_peak http "$T/fleet.done" >"$T/peak" &
sampler=$!
PV_CLEANUP+=("kill $sampler 2>/dev/null")
expect_status 0 "$PV_BIN" fleet run --scenario power-restore --phones $N --mix mpp \
  --server "http://127.0.0.1:$HTTP_PORT" --source-addresses off --random-delay 0 \
  --duration 60 --report "$T/report"
touch "$T/fleet.done"
wait $sampler
txt=$(cat "$T/.out")
expect_contains "$txt" "goal (a successful resync): $N/$N phones (100.0 %)" "all provisioned"
expect_contains "$txt" "failures by cause: none" "none failed: no connection was refused"
python3 - "$T/report/report.json" $N <<'PY' || fail "report.json: $(cat "$T/report/report.txt")"
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert r["reached"] == n and r["failed"] == 0 and r["requests"] == n, r
PY
ok
# the office held more connections at once than its address may, and none was refused
peak=$(cat "$T/peak")
[ "$peak" -gt 20 ] || fail "at most $peak HTTP connections at once: the office never exceeded its address's limit"
ok
expect_eq "$(metric 'provisor_refused_total{proto="http"}')" 0 "no phone's connection refused"
grep -q 'event=http.refused' "$T/serve.log" && fail "a phone was refused: $(grep -m1 'event=http.refused' "$T/serve.log")"
ok

# The same address, 60 connections held open, then a request on each for a path that names no
# device: 20 are answered, the others get 503 with a Retry-After and are closed.
python3 - "$HTTP_PORT" >"$T/garbage" <<'PY'
import socket, sys
port = int(sys.argv[1])
conns = []
for i in range(60):
    conns.append(socket.create_connection(("127.0.0.1", port), timeout=30))
answered = refused = 0
for s in conns:
    s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
    head = s.recv(4096)
    if head.startswith(b"HTTP/1.1 200"):
        answered += 1
    elif head.startswith(b"HTTP/1.1 503") and b"\r\nRetry-After: " in head:
        refused += 1
print(answered, refused)
PY
read -r answered refused <"$T/garbage"
expect_eq "$answered" 20 "an address is held to 20 connections for paths that name nobody"
expect_eq "$refused" 40 "the others are answered 503 with a Retry-After"
expect_eq "$(metric 'provisor_refused_total{proto="http"}')" 40 "each refusal counted"
grep -q 'reason="beyond the per-source limit, naming no device"' "$T/serve.log" ||
  fail "the refusal is not logged"
ok
serve_stop
done_ok
