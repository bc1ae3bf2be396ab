#!/usr/bin/env bash
# The TLS handshake's time is the peer's, not the server's (issue 18; docs/configuration.md
# `[limits] handshake_timeout_ms`, `handshake_max_ms`):
#   1. a handshake that waited in the admission queue ([https] handshake_rate) longer than
#      handshake_timeout_ms still completes: its timeout counts from admission;
#   2. a server too busy to read what the peer sent (here: stopped with SIGSTOP for longer
#      than the handshake timeout, while the client sent its last flight) finishes the
#      handshake instead of dropping it: the peer's bytes wait unread, so the handshake gets
#      another period;
#   3. but a peer that has not sent its flight is still held to handshake_timeout_ms.
# curl and Python's ssl module are the clients; everything on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
CA="$D/tls/ca.pem"

# ---- 1. a queued handshake beyond the old timeout ----------------------------------------
# 1 handshake a second, a timeout of 500 ms: of 4 connections at once the last is admitted
# about 3 s after it arrived, six times the timeout.
serve_ports
serve_start queued --data-dir "$D" --workers 1 --tls-handshake-rate 1 \
  --provisioning-queue-deadline-ms 60000 --limits-handshake-timeout-ms 500
pids=()
for i in 1 2 3 4; do
  curl -sS --max-time 120 --cacert "$CA" -o "$T/q$i" "https://127.0.0.1:$HTTPS_PORT/sample.xml" &
  pids+=($!)
done
for i in 1 2 3 4; do
  wait "${pids[$((i - 1))]}" || fail "queued handshake $i failed: $(grep -E 'tls\.' "$T/queued.log" | tail -5)"
  same_file "$T/q$i" "$D/profiles/sample.xml" "answer after a queued handshake $i"
done
[ "$(metric 'provisor_admission_wait_ms_max{class="tls"}')" -gt 500 ] ||
  fail "no handshake waited longer than the 500 ms timeout: $(metric 'provisor_admission_wait_ms_max{class="tls"}') ms"
ok
! grep -q 'event=tls.handshake_failed' "$T/queued.log" || fail "a queued handshake was dropped"
ok
serve_stop

# ---- 2 and 3. a stalled server: SIGSTOP while the client sends its last flight -------------
# STALL_S: how long the server is stopped. The client sends its ClientHello, waits for the
# server's flight (the server has answered: the peer's turn, a 1 s timer), then the server is
# stopped, the client sends its Finished (expect=ok) or stays silent (expect=dropped) and the
# server resumes after STALL_S; a request on the connection must then be answered (ok), or
# the server must have ended the handshake (dropped).
stalled_handshake() { # STALL_S EXPECT
  python3 - "$HTTPS_PORT" "$CA" "$SERVE_PID" "$1" "$2" "$T/stalled.log" <<'PY'
import os, select, signal, socket, ssl, sys, time
port, ca, pid, stall, expect, log = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(cafile=ca)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
sock = socket.create_connection(("127.0.0.1", port), timeout=120)
# memory BIOs: the client sends exactly what the test says, when it says
rbio, wbio = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(rbio, wbio, server_hostname="localhost")

def step():  # one handshake step on what arrived; sends what it produced; True when done
    try:
        tls.do_handshake()
        done = True
    except ssl.SSLWantReadError:
        done = False
    out = wbio.read()
    if out:
        sock.sendall(out)
    return done

step()  # the ClientHello
# the server's flight (ServerHello ... Finished): it read the ClientHello and answered
deadline = time.monotonic() + 120
while True:
    data = sock.recv(65536)
    if not data:
        sys.exit("the server closed instead of answering the ClientHello")
    rbio.write(data)
    try:
        tls.do_handshake()  # complete once the whole flight is in; its output is not sent yet
        break
    except ssl.SSLWantReadError:
        if time.monotonic() > deadline:
            sys.exit("no whole server flight")
pending = wbio.read()  # the client's Finished (and certificate flight), held back
if stall > 0:
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 60
    while open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "T":
        if time.monotonic() > deadline:
            sys.exit("the server did not stop")
        time.sleep(0.01)
stopped = time.monotonic()
try:
    if expect == "ok":
        sock.sendall(pending)  # the peer's part, done while the server is stopped
finally:
    if stall > 0:
        time.sleep(max(0.0, stall - (time.monotonic() - stopped)))
        os.kill(pid, signal.SIGCONT)
if expect != "ok":
    # the server's verdict first: its log says it ended the handshake
    deadline = time.monotonic() + 60
    while "event=tls.handshake_failed" not in open(log).read():
        if time.monotonic() > deadline:
            sys.exit("the server did not end a silent peer's handshake")
        time.sleep(0.05)
    try:
        sock.sendall(pending)
    except OSError:
        pass
answered, err = False, "closed without an answer"
try:
    tls.write(b"GET /sample.xml HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    sock.sendall(wbio.read())
    plain = b""
    while True:
        data = sock.recv(65536)
        if not data:
            break
        rbio.write(data)
        try:
            while True:
                chunk = tls.read(65536)
                if not chunk:
                    break
                plain += chunk
        except ssl.SSLWantReadError:
            pass
    answered = plain.startswith(b"HTTP/1.1 200")
except (ssl.SSLError, OSError) as e:
    err = str(e)
if expect == "ok" and not answered:
    sys.exit("handshake dropped after a %.1f s stall of the server: %s" % (stall, err))
if expect == "dropped" and answered:
    sys.exit("a silent peer's handshake outlived its timeout after a %.1f s stall" % stall)
print("ok: %s after a %.1f s stall" % ("answered" if answered else "dropped", stall))
PY
}
serve_ports
serve_start stalled --data-dir "$D" --workers 1 --limits-handshake-timeout-ms 1000 \
  --limits-handshake-max-ms 4000
# 2.5 s stopped: 2.5 times the timeout, within the 4 s bound
stalled_handshake 2.5 ok || fail "a stalled server dropped a handshake whose peer had done its part"
ok
! grep -q 'event=tls.handshake_failed' "$T/stalled.log" || fail "handshake_failed logged: $(grep handshake_failed "$T/stalled.log")"
ok
# the same stall with a client that sends nothing after the server's flight: its turn is over
stalled_handshake 2.5 dropped || fail "a silent peer kept its handshake past the timeout"
ok
expect_contains "$(grep 'event=tls.handshake_failed' "$T/stalled.log")" "TLS handshake timed out" \
  "the silent peer's handshake timed out"
serve_stop
done_ok
