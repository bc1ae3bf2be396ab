#!/usr/bin/env bash
# Admission under a storm (issue 15, DESIGN 8; docs/provisioning.md "Admission"): 200 factory
# phones of `provisor fleet`, all behind ONE source address (an office behind NAT), boot at
# once against a `provisor serve` that renders at most 20 profiles per second (less than
# they arrive) and lets a request wait at most 700 ms. Requests queue instead of being
# closed; those past the deadline get 503 with a Retry-After; the phones retry on their own
# schedule and every one of them ends provisioned (SEC-PRV-2) with its certificate's
# identity — nothing is limited by the shared address, though the server allows it only 20
# connections per loop. TLS handshakes are admitted too (40 a second): they queue in the
# burst, before any TLS work. An address sending connections without a certificate is still
# held to its 20.
# Covers src/net/admission.c and src/server/prov_admit.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

N=${PV_STORM_PHONES:-200} # docs/benchmarks.md runs it with more, and a higher render rate
D="$T/data"
serve_ports
# --limits-max-per-source 20: far fewer than the phones behind the address; each proves who it
# is (its certificate), so the limit counts the address only for connections that do not
serve_start serve --data-dir "$D" --tftp off --workers 2 --provisioning-render-rate "${PV_STORM_RENDER_RATE:-20}" \
  --limits-max-per-source 20 --tls-handshake-rate "${PV_STORM_TLS_RATE:-40}" \
  --provisioning-queue-deadline-ms 700 --provisioning-retry-delay 3+3,6+6
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
export PROVISOR_TOKEN=$(grep -A1 '^Admin token' "$T/serve.out" | tail -1 | tr -d ' ')

fleet_phones $N office CP-8841-3PCC

# in-house: /$PSN.xml, then /$MA.xml with the certificate (SEC-PRV-1), then the profile
expect_status 0 "$PV_BIN" fleet run --scenario in-house --phones $N --mix mpp \
  --server "https://127.0.0.1:$HTTPS_PORT" --ca "$D/tls/ca.pem" --certs "$T/certs" \
  --source-addresses off --random-delay 0 --period 3 --duration 240 --report "$T/storm"
cp "$T/.out" "$T/storm.txt"
expect_contains "$(cat "$T/.out")" "$N/$N phones" "every phone provisioned"
expect_eq "$(sqlite3 -cmd '.timeout 5000' "$D/provisor.db" \
  "SELECT count(*) FROM devices WHERE state = 'SEC-PRV-2'")" $N "the server's store agrees"

queued=$(metric 'provisor_admission_queued_total{class="render"}')
refused=$(metric 'provisor_admission_refused_total{class="render",reason="deadline"}')
admitted=$(metric 'provisor_admission_admitted_total{class="render"}')
[ "$queued" -gt 0 ] || fail "no request waited: the storm did not exceed the render rate"
ok
[ "$refused" -gt 0 ] || fail "no request waited past the deadline: the test shows no retry"
ok
[ "$admitted" -ge $((N * 3)) ] || fail "admitted $admitted renders, want at least 3 per phone"
ok
expect_eq "$(metric 'provisor_admission_waiting{class="render"}')" 0 "nothing left waiting"
tls_queued=$(metric 'provisor_admission_queued_total{class="tls"}')
[ "$tls_queued" -gt 0 ] || fail "no TLS handshake waited: the burst did not exceed 40 a second"
ok
expect_eq "$(metric 'provisor_admission_waiting{class="tls"}')" 0 "no handshake left waiting"
# a refusal says when to come back, spread over the phones' first retry step (3+3 s here)
grep -q 'status=503' "$T/serve.log" || fail "no 503 logged"
ok

# the same address without certificates: 20 connections per loop thread, then each one more is
# closed right after its handshake (2 loops: at most 40 held)
python3 - "$HTTPS_PORT" "$D/tls/ca.pem" >"$T/garbage" <<'PY'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
held, refused = [], 0
for i in range(60):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        t = ctx.wrap_socket(s)
        t.sendall(b"GET /00562b000000.xml HTTP/1.1\r\nHost: x\r\n\r\n")
        if t.recv(64)[:8] == b"HTTP/1.1":
            held.append(t)
            continue
    except (ssl.SSLError, OSError):
        pass
    refused += 1
print(len(held), refused)
PY
read -r held refused <"$T/garbage"
[ "$held" -le 40 ] && [ "$refused" -ge 20 ] ||
  fail "an address without certificates held $held connections ($refused refused)"
ok
grep -q 'reason="beyond the per-source limit without a client certificate"' "$T/serve.log" ||
  fail "the refusal is not logged"
ok
wait_ms_max=$(metric 'provisor_admission_wait_ms_max{class="render"}')
tls="$(metric 'provisor_admission_admitted_total{class="tls"}')/$tls_queued"
serve_stop
grep -E 'goal|time to goal|p99|^provisioning|failures' "$T/storm.txt" | head -12
echo "storm: queued=$queued refused=$refused admitted=$admitted wait_ms_max=$wait_ms_max tls_admitted/queued=$tls"
done_ok
