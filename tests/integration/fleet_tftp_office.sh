#!/usr/bin/env bash
# An office of 200 phones behind ONE address provisions over TFTP at once (issue 15;
# net/tftp_admit.h): `provisor fleet` boots 200 phones with no random delay, all from
# 127.0.0.1, against `provisor serve` with its DEFAULT TFTP limits (16 transfers and 50
# requests a second per address). Each phone asks for its own file, whose name carries its
# MAC: limits by that identity let every one of them in at the first try — no failure, no
# refusal. The same address asking for files that name no device is still held to the plain
# limits: 16 transfers at a time, the rest refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

N=200
serve_ports
expect_status 0 "$PV_BIN" fleet profiles --phones $N --out "$T/root" --mix mpp \
  --server "tftp://127.0.0.1:$TFTP_PORT"
head -c 300000 /dev/urandom >"$T/root/firmware.bin" # a file that names nobody
serve_start serve --data-dir "$T/data" --root "$T/root" --workers 1

expect_status 0 "$PV_BIN" fleet run --scenario power-restore --phones $N --mix mpp \
  --server "tftp://127.0.0.1:$TFTP_PORT" --source-addresses off --random-delay 0 \
  --duration 60 --report "$T/report"
txt=$(cat "$T/.out")
expect_contains "$txt" "goal (a successful resync): $N/$N phones (100.0 %)" "all provisioned"
expect_contains "$txt" "failures by cause: none" "none failed: no request was refused"
python3 - "$T/report/report.json" $N <<'PY' || fail "report.json"
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert r["reached"] == n and r["failed"] == 0 and r["requests"] == n, r
PY
ok
grep -q 'event=tftp.refused' "$T/serve.log" && fail "a phone's request was refused: $(grep -m1 'event=tftp.refused' "$T/serve.log")"
ok

# The same address, 60 requests at once for a file that names no device, never acknowledged:
# 16 get their first DATA, the others an ERROR that says why.
python3 - "$TFTP_PORT" >"$T/garbage" <<'PY'
import select, socket, struct, sys
port = int(sys.argv[1])
socks = []
for i in range(60):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.sendto(b"\x00\x01firmware.bin\x00octet\x00", ("127.0.0.1", port))
    socks.append(s)
data = refused = 0
for s in socks:
    r, _, _ = select.select([s], [], [], 5)
    if not r:
        continue
    pkt = s.recv(1024)
    op = struct.unpack("!H", pkt[:2])[0]
    if op == 3:
        data += 1
    elif op == 5 and b"too many transfers from your address" in pkt:
        refused += 1
print(data, refused)
PY
read -r data refused <"$T/garbage"
expect_eq "$data" 16 "an address is held to 16 transfers of files that name nobody"
expect_eq "$refused" 44 "the others are refused"
serve_stop
done_ok
