#!/usr/bin/env bash
# An office of 200 phones behind ONE address binds, provisions and upgrades its firmware at
# once over HTTPS (issue 15: limits by identity, not address). `provisor fleet` runs 200
# factory phones with client certificates, all from 127.0.0.1, against a `provisor serve` that
# allows an address only 20 connections per loop (--limits-max-per-source 20, 2 loops: 40 for
# the address, a fifth of the office) and serves firmware over HTTPS only (no HTTP, no TFTP
# listener: the Upgrade_Rule names https). The operator registers a real image, sets the
# model's plan and creates a rollout of one stage — every phone at once — with the CLI, before
# the phones boot: each phone binds by its certificate (/$MA.xml, SEC-PRV-1), fetches its
# profile (SEC-PRV-2) with the Upgrade_Rule, downloads the image, reboots into it and resyncs.
# All 200 must run the new load, the server must have refused none of them (its refusal
# counters), and the office must have held more connections at once than the address alone
# may. Meanwhile, another address (127.0.0.2) sending garbage without a certificate is still
# held to its 20 per loop.
# Covers src/net/http_server.c and http_conn.c (the per-source limit by identity) and
# src/server/prov_firmware.c (image downloads over HTTPS).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

N=200
MODEL=CP-8841-3PCC
OLD=sip88xx.11-3-1MPP-678 # the load an MPP phone of the fleet runs (src/agent/defaults.c)
NEW=sip88xx.11-3-2MPP-100
FW_SIZE=$((512 * 1024)) # a real image's size class, so downloads overlap
D="$T/data"
serve_ports
# --tls-handshake-rate 100: the node admits fewer handshakes a second than the office makes at
# boot, so they wait in its queue with their connections open — more at once than the address
# may hold without certificates
serve_start serve --data-dir "$D" --tftp off --http off --workers 2 --limits-max-per-source 20 \
  --tls-handshake-rate 100 --provisioning-rollout-interval-ms 300 --provisioning-random-delay-s 1
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
export PROVISOR_TOKEN=$(grep -A1 '^Admin token' "$T/serve.out" | tail -1 | tr -d ' ')

# the phones, as the provider's order lists them, and their factory certificates
fleet_phones $N office $MODEL

# the operator's upgrade: the image the phones verify (PVFW line with its SHA-256, then the
# load), registered, the plan, and a rollout whose one stage is the whole office
expect_status 0 "$PV_BIN" fleet profiles --phones 1 --mix mpp --out "$T/fw" --server http://x \
  --firmware-size $FW_SIZE
image="$T/fw/fleet/fw/$MODEL-$NEW.bin"
[ "$(stat -c %s "$image")" -gt $FW_SIZE ] || fail "the image is $(stat -c %s "$image") bytes"
ok
expect_status 0 "$PV_BIN" firmware upload "$image"
expect_status 0 "$PV_BIN" firmware add "$MODEL-$NEW.bin" --model $MODEL --version $NEW --kind bin
expect_status 0 "$PV_BIN" plan set $MODEL --target $NEW
expect_status 0 "$PV_BIN" rollout create office --model $MODEL --account office --canary 0 \
  --cohorts 100 --in-flight $N --per-minute 1000 --soak 120 --from "$OLD"
wait_for 20 "the whole office admitted" bash -c \
  "'$PV_BIN' rollout devices office --json | python3 -c 'import json,sys; sys.exit(sum(m[\"state\"] == \"admitted\" for m in json.load(sys.stdin)) != $N)'"

# how many HTTPS connections the server holds, sampled while the office boots (bounded)
open_peak https "$T/fleet.done" >"$T/peak" &
sampler=$!
PV_CLEANUP+=("kill $sampler 2>/dev/null")

# the same moment, another address: 60 TLS connections without a certificate, opened one after
# the other and held; then garbage on each. Those within its 20 per loop are answered (400),
# the others were closed right after their handshake.
python3 - "$HTTPS_PORT" "$D/tls/ca.pem" >"$T/garbage" <<'PY' &
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False
conns = []
for i in range(60):
    s = socket.socket()
    s.settimeout(30)
    s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port))
        conns.append(ctx.wrap_socket(s))
    except (ssl.SSLError, OSError):
        conns.append(None)
answered = refused = 0
for t in conns:
    try:
        t.sendall(b"\x16\x03\x01 garbage that is no request\r\n\r\n")
        if t.recv(64)[:12] == b"HTTP/1.1 400":
            answered += 1
            continue
    except (AttributeError, ssl.SSLError, OSError):
        pass
    refused += 1
print(answered, refused)
PY
garbage=$!
PV_CLEANUP+=("kill $garbage 2>/dev/null")

expect_status 0 "$PV_BIN" fleet run --scenario rollout-good --phones $N --mix mpp \
  --server "https://127.0.0.1:$HTTPS_PORT" --ca "$D/tls/ca.pem" --certs "$T/certs" \
  --source-addresses off --random-delay 0 --firmware-size $FW_SIZE --duration 120 \
  --report "$T/office"
touch "$T/fleet.done"
txt=$(cat "$T/.out")
expect_contains "$txt" "$N/$N phones" "every phone runs the new load"
expect_contains "$txt" "failures by cause: none" "no request of a phone failed or was refused"
python3 - "$T/office/report.json" $N <<'PY' || fail "report.json: $(cat "$T/office/report.txt")"
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert r["reached"] == n, r["reached"]
PY
ok
wait $sampler
wait $garbage

# the server's word: every phone came back at the new version, each image download counted
# (the stage passes after its soak, longer than the test: what matters is that it never halted)
expect_eq "$(metric provisor_rollout_halts_total)" 0 "the rollout did not halt"
expect_eq "$("$PV_BIN" rollout devices office --json | python3 -c '
import json, sys; print(sum(m["state"] == "upgraded" for m in json.load(sys.stdin)))')" $N \
  "the server saw every phone back at $NEW"
downloads=$(metric "provisor_firmware_downloads_total{image=\"$MODEL-$NEW.bin\"}")
[ "$downloads" -ge $N ] || fail "$downloads image downloads for $N phones"
ok
expect_eq "$(metric provisor_firmware_queue_timeouts_total)" 0 "no download refused by admission"
sent=$(metric 'provisor_bytes_sent_total{proto="https"}')
[ "$sent" -ge $((N * FW_SIZE)) ] || fail "$sent bytes sent over HTTPS for $N images"
ok

# ... and none of them was refused for the address it shares: no connection closed at accept
# for its address (provisor_refused_total counts those), none after its handshake (logged),
# though the office held more connections at once than its address alone may (40; the server
# held more than 100 at once, of which the garbage address's 60 at most)
peak=$(cat "$T/peak")
[ "$peak" -gt 100 ] || fail "at most $peak HTTPS connections at once: the office never exceeded its address's limit"
ok
grep 'beyond the per-source limit' "$T/serve.log" | grep -q 'peer=127.0.0.1:' &&
  fail "a phone was refused for its address: $(grep -m1 'beyond the per-source' "$T/serve.log")"
ok
read -r answered refused <"$T/garbage"
garbage_refused=$(grep 'beyond the per-source limit' "$T/serve.log" | grep -c 'peer=127.0.0.2:' || true)
expect_eq "$(metric 'provisor_refused_total{proto="https"}')" "$garbage_refused" \
  "every connection the server refused was the garbage address's"

# the garbage address: 20 connections per loop answered (400), the others closed
[ "$answered" -le 40 ] && [ "$refused" -ge 20 ] ||
  fail "an address sending garbage without certificates held $answered connections ($refused refused)"
ok
[ "$garbage_refused" -gt 0 ] || fail "no refusal of the garbage address logged"
ok
serve_stop
echo "office: at most $peak HTTPS connections at once; garbage: $answered answered, $refused refused"
done_ok
