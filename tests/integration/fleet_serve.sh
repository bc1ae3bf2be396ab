#!/usr/bin/env bash
# provisor fleet against provisor serve's static tree: certificates checked by openssl, a
# 200-phone power restore over HTTPS with client certificates (per-device encrypted
# profiles), HTTP and TFTP, zero failures, the text/JSON/SVG/PNG report; the loopback guard.
# Covers src/cli/cmd_fleet.c and src/fleet/certs.c (`fleet certs`).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

N=200

# --- certificates: EC by default, RSA on request; the subject a real phone's carries ----
expect_status 0 "$PV_BIN" fleet certs --count $N --out "$T/certs" --mix mpp,ata
expect_contains "$(cat "$T/.out")" "issued $N EC P-256" "certs summary"
n=$(ls "$T/certs" | grep -c '^[0-9a-f]\{12\}\.pem$')
expect_eq "$n" "$N" "one file per phone"
# every certificate chains to the CA (openssl reads the CERTIFICATE block of key+cert files)
out=$(cd "$T/certs" && openssl verify -CAfile ca.pem $(ls | grep -E '^[0-9a-f]{12}\.pem$'))
expect_eq "$(echo "$out" | grep -c ': OK$')" "$N" "openssl verify: all $N OK"
subj=$(openssl x509 -in "$T/certs/00562b000000.pem" -noout -subject -nameopt RFC2253)
expect_contains "$subj" "ST=00562b000000" "MAC in ST (spec 4.4)"
expect_contains "$subj" "OU=CP-8841-3PCC" "product in OU"
expect_contains "$subj" "L=FCH02000000" "serial in L"
expect_contains "$(openssl x509 -in "$T/certs/0c1167000001.pem" -noout -subject)" "ATA191-MPP" "ATA"
expect_contains "$(openssl x509 -in "$T/certs/00562b000000.pem" -noout -text)" "TLS Web Client Authentication" "clientAuth"
expect_eq "$(stat -c %a "$T/certs/00562b000000.pem")" "600" "key files are private"
# RSA with a given CA
expect_status 0 "$PV_BIN" fleet certs --count 3 --out "$T/rsa" --rsa \
  --ca-cert "$T/certs/ca.pem" --ca-key "$T/certs/ca.key"
expect_contains "$(openssl x509 -in "$T/rsa/00562b000002.pem" -noout -text)" "rsaEncryption" "RSA key"
out=$(cd "$T/rsa" && openssl verify -CAfile "$T/certs/ca.pem" $(ls | grep -E '^[0-9a-f]{12}\.pem$'))
expect_eq "$(echo "$out" | grep -c ': OK$')" "3" "RSA certificates verify against the given CA"
expect_status 2 "$PV_BIN" fleet certs --count 3 --out "$T/x" --ca-cert "$T/certs/ca.pem"

# --- the static tree, then the server that serves it -----------------------------------
serve_ports
expect_status 0 "$PV_BIN" fleet profiles --phones $N --out "$T/root" --mix mpp,ata \
  --server "https://127.0.0.1:$HTTPS_PORT"
[ -s "$T/root/fleet/00562b000000.cfg" ] || fail "profile missing"
expect_eq "$(head -c 8 "$T/root/fleet/00562b000000.cfg")" "Salted__" "profiles are encrypted"
# the server's DEFAULT per-address limits: each simulated phone connects from its own
# 127.A.B.C (--source-addresses on by default), as real phones each have an address
serve_start serve --data-dir "$T/data" --root "$T/root" --client-ca "$T/certs/ca.pem" \
  --client-cert required --workers 1

# one third each over HTTPS (client certificate), HTTP and TFTP; no Resync_Random_Delay
expect_status 0 "$PV_BIN" fleet run --scenario power-restore --phones $N --mix mpp,ata \
  --server "https://127.0.0.1:$HTTPS_PORT" --server "http://127.0.0.1:$HTTP_PORT" \
  --server "tftp://127.0.0.1:$TFTP_PORT" --random-delay 0 --duration 60 \
  --ca "$T/data/tls/ca.pem" --certs "$T/certs" --report "$T/report"
txt=$(cat "$T/.out")
expect_contains "$txt" "goal (a successful resync): $N/$N phones (100.0 %)" "all provisioned"
# stderr is a file, not a terminal: the run still says what it runs (issue 10: never silent)
expect_contains "$(cat "$T/.err")" "fleet: $N phones, scenario power-restore, against https://127.0.0.1:$HTTPS_PORT and more" \
  "the run announces itself on stderr"
expect_contains "$txt" "failures by cause: none" "zero failures"
expect_contains "$txt" "SEC-PRV-2 $N" "every phone decrypted its per-device profile"
python3 - "$T/report/report.json" $N <<'PY' || fail "report.json"
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert r["reached"] == n and r["failed"] == 0 and r["requests"] == n, r
assert r["stopped_by"] == "goal" and r["clock"] == "real", r
assert r["phases"][0]["latency"]["count"] == n
assert r["time_to_goal"]["p100_ms"] is not None
assert r["cost"]["connections"] >= n * 2 // 3  # HTTPS + HTTP connections (TFTP: sessions)
PY
ok
head -c 200 "$T/report/plot.svg" | grep -q '<svg' || fail "plot.svg"
ok
[ -s "$T/report/report.txt" ] || fail "report.txt"
if command -v rsvg-convert >/dev/null; then
  expect_eq "$(head -c 4 "$T/report/plot.png" | tail -c 3)" "PNG" "plot.png"
fi
# the server saw each HTTPS phone by its certificate (DESIGN 3)
log=$(cat "$T/serve.log")
expect_contains "$log" "proto=https" "HTTPS requests"
n_id=$(grep -c 'proto=https .*identity=[0-9a-f]\{12\} .*status=200' "$T/serve.log" || true)
[ "$n_id" -ge $((N / 3)) ] || fail "HTTPS requests with a certificate identity: $n_id"
ok

# each phone from its own address: phone 0 is 127.0.0.1, phone 1 127.0.0.2, ... (fleet/host.h)
n_src=$(grep -oE 'peer=127\.[0-9.]+' "$T/serve.log" | sed 's/:.*//' | sort -u | wc -l)
[ "$n_src" -ge $((N * 9 / 10)) ] || fail "distinct source addresses seen by the server: $n_src"
ok
# --source-addresses off: all from 127.0.0.1 again; a usage error for anything but on/off
expect_status 0 "$PV_BIN" fleet run --scenario power-restore --phones 5 --mix mpp,ata --random-delay 0 \
  --server "http://127.0.0.1:$HTTP_PORT" --duration 30 --source-addresses off
expect_contains "$(cat "$T/.out")" "goal (a successful resync): 5/5 phones" "off: provisioned"
expect_status 2 "$PV_BIN" fleet run --scenario steady --phones 5 --server http://127.0.0.1:1 \
  --source-addresses maybe

# --- JSON on stdout; the virtual clock needs no server -----------------------------------
expect_status 0 "$PV_BIN" fleet run --scenario retail --phones 50 --virtual --json \
  --server "https://127.0.0.1:$HTTPS_PORT"
expect_contains "$(cat "$T/.out")" '"SEC-PRV-2": 50' "retail on the virtual clock"

# --- bounded: the loopback guard, the duration cap, usage errors -------------------------
expect_status 1 "$PV_BIN" fleet run --scenario steady --phones 5 --server https://192.0.2.10:443
expect_contains "$(cat "$T/.err")" "not loopback" "a remote server is refused"
expect_status 1 "$PV_BIN" fleet run --scenario steady --phones 5 --duration 999999 --virtual \
  --server "https://127.0.0.1:$HTTPS_PORT"
expect_contains "$(cat "$T/.err")" "runs at most" "the duration cap"
expect_status 2 "$PV_BIN" fleet run --scenario nope --phones 5 --server http://127.0.0.1:1
expect_status 2 "$PV_BIN" fleet run --scenario steady --phones x --server http://127.0.0.1:1
expect_status 2 "$PV_BIN" fleet frobnicate
expect_status 0 "$PV_BIN" fleet --help
expect_contains "$(cat "$T/.out")" "power-restore" "help lists the scenarios"
# a server that is down: every phone fails to connect, the run says so and exits 1
dead=$(free_port tcp)
expect_status 1 "$PV_BIN" fleet run --scenario power-restore --phones 20 --duration 5 \
  --random-delay 0 --server "http://127.0.0.1:$dead"
expect_contains "$(cat "$T/.out")" "connect" "failures by cause: connect"
serve_stop
done_ok
