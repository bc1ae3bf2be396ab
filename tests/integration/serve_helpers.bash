# serve_helpers.bash — sourced by tests/integration/serve_*.sh after lib.sh:
# start `provisor serve` on free loopback ports and wait for it to be ready.
# (Not a .sh file, so CTest does not run it as a test of its own.)

# serve_ports — picks free ports: TFTP_PORT (udp), HTTP_PORT, HTTPS_PORT, ADMIN_PORT.
serve_ports() {
  TFTP_PORT=$(free_port udp)
  HTTP_PORT=$(free_port tcp)
  HTTPS_PORT=$(free_port tcp)
  ADMIN_PORT=$(free_port tcp)
  while [ "$HTTPS_PORT" = "$HTTP_PORT" ]; do HTTPS_PORT=$(free_port tcp); done
  while [ "$ADMIN_PORT" = "$HTTP_PORT" ] || [ "$ADMIN_PORT" = "$HTTPS_PORT" ]; do
    ADMIN_PORT=$(free_port tcp)
  done
}

# wait_log FILE PATTERN [SECONDS] — waits until FILE has a line matching PATTERN (grep -E);
# fails early if the server died. SECONDS (default 20) as in wait_for (lib.sh): the deadline
# is PV_WAIT_FACTOR times it.
wait_log() {
  local file=$1 pattern=$2 budget=$((${3:-20} * ${PV_WAIT_FACTOR:-10}))
  local deadline=$((SECONDS + budget))
  while ! grep -qE -- "$pattern" "$file" 2>/dev/null; do
    if [ -n "${SERVE_PID:-}" ] && ! kill -0 "$SERVE_PID" 2>/dev/null; then
      fail "server exited while waiting for '$pattern'; log: $(tail -c 2000 "$file")"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "no '$pattern' in $file after ${budget}s: $(tail -c 2000 "$file")"
    sleep 0.05
  done
}

# slow_get URL OUT GO [--ca CA] — a download in the background (pid in $slow) that reads 16 KiB
# every 50 ms until the file GO exists, then at full speed, and writes the body to OUT; it
# fails when the body is shorter than Content-Length (a connection cut). Returns once the first
# bytes arrived. So a test decides how long the download stays in flight, not the machine's
# speed. (A 24 MiB file takes ~80 s at the slow pace.)
slow_get() {
  local url=$1 out=$2 go=$3 ca=
  [ "${4:-}" = --ca ] && ca=$5
  python3 - "$url" "$out" "$go" "$ca" <<'PY' &
import os, socket, ssl, sys, time, urllib.parse
url, out, go, ca = sys.argv[1:]
u = urllib.parse.urlsplit(url)
sock = socket.create_connection((u.hostname, u.port), timeout=120)
if u.scheme == "https":
    sock = ssl.create_default_context(cafile=ca).wrap_socket(sock, server_hostname="localhost")
sock.sendall(b"GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % u.path.encode())
data = bytearray()
while True:
    slow = not os.path.exists(go)
    chunk = sock.recv(16384 if slow else 1 << 20)
    if not chunk:
        break
    if not data:
        open(out + ".started", "w").close()
    data += chunk
    if slow:
        time.sleep(0.05)
head, _, body = bytes(data).partition(b"\r\n\r\n")
if not head.startswith(b"HTTP/1.1 200"):
    sys.exit("slow_get: " + head.decode("latin-1")[:200])
length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
open(out, "wb").write(body)
if length and len(body) != length[0]:
    sys.exit("slow_get: %d of %d bytes" % (len(body), length[0]))
PY
  slow=$!
  PV_CLEANUP+=("kill $slow 2>/dev/null")
  wait_for 10 "slow download of $url started" test -e "$out.started"
}

# serve_start NAME ARGS... — runs `provisor serve` on the ports of serve_ports with
# ARGS, logs in $T/NAME.log, stdout in $T/NAME.out; returns when event=server.started
# is logged (after every listener.ready). Sets SERVE_PID; the server is killed on exit.
serve_start() {
  local name=$1
  shift
  "$PV_BIN" serve --tftp "127.0.0.1:$TFTP_PORT" --http "127.0.0.1:$HTTP_PORT" \
    --https "127.0.0.1:$HTTPS_PORT" --admin "127.0.0.1:$ADMIN_PORT" --portal "${PORTAL_ADDR:-off}" "$@" \
    >"$T/$name.out" 2>"$T/$name.log" &
  SERVE_PID=$!
  PV_CLEANUP+=("kill -9 $SERVE_PID 2>/dev/null")
  wait_log "$T/$name.log" "event=server.started"
  # The banner (with a first run's admin token) is printed after the started line: a test
  # that reads it must not race it (under ASan it lost: TOKEN unbound in api_crud).
  wait_log "$T/$name.out" "Stop with Ctrl-C"
}

# serve_stop — SIGTERM, then checks the exit status is 0.
serve_stop() {
  kill -TERM "$SERVE_PID"
  local rc=0
  wait "$SERVE_PID" || rc=$?
  expect_eq "$rc" 0 "exit status after SIGTERM"
  SERVE_PID=
}

# metric NAME_AND_LABELS — the value of one sample from the admin /metrics, or 0.
metric() {
  curl -sS "http://127.0.0.1:$ADMIN_PORT/metrics" |
    awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}

# open_peak PROTO DONE — prints the most connections of PROTO (http, https) the server held at
# once, sampled from /metrics until the file DONE exists (bounded: 300 s). Run it in the
# background while a fleet runs.
open_peak() {
  python3 - "$ADMIN_PORT" "$1" "$2" <<'PY'
import os, sys, time, urllib.request
port, proto, done = sys.argv[1], sys.argv[2], sys.argv[3]
key = 'provisor_open{proto="%s"} ' % proto
peak, end = 0, time.monotonic() + 300
while not os.path.exists(done) and time.monotonic() < end:
    try:
        text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5).read()
    except OSError:
        text = b""
    for line in text.decode().splitlines():
        if line.startswith(key):
            peak = max(peak, int(line.split()[1]))
    time.sleep(0.02)
print(peak)
PY
}

# cert_sha256 FILE — SHA-256 fingerprint of a PEM certificate, lower-case hex.
cert_sha256() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

# browser_ready — the browser tests' tools (tests/browser): node, Debian's chromium, and
# playwright-core with axe-core from the lockfile; sets B to tests/browser.
browser_ready() {
  B="$PV_SRC/tests/browser"
  command -v node >/dev/null || fail "node not found: scripts/deps.sh installs nodejs"
  [ -x "${CHROMIUM:-/usr/bin/chromium}" ] || fail "chromium not found: scripts/deps.sh installs it"
  [ -d "$B/node_modules/playwright-core" ] && [ -d "$B/node_modules/axe-core" ] ||
    fail "tests/browser/node_modules missing: run scripts/deps.sh (npm ci in tests/browser)"
}

# fleet_phones N ACCOUNT MODEL — the provider's order for N multiplatform phones as
# `provisor fleet --mix mpp` numbers them (MAC 00562b000000 up): their factory certificates from
# the data directory $D's demo manufacturer CA in $T/certs, the account, and the devices
# imported into it with the CLI (PROVISOR_DATA, _ADMIN_URL and _TOKEN exported by the caller).
fleet_phones() {
  local n=$1 account=$2 model=$3
  rm -rf "$T/certs"
  expect_status 0 "$PV_BIN" fleet certs --count "$n" --out "$T/certs" --mix mpp \
    --ca-cert "$D/manufacturer/demo-ca.pem" --ca-key "$D/manufacturer/demo-ca.key"
  expect_status 0 "$PV_BIN" account create "$account"
  { echo "MAC,model,account"; for i in $(seq 0 $((n - 1))); do
    printf '00562b%06x,%s,%s\n' "$i" "$model" "$account"; done; } >"$T/devices.csv"
  expect_status 0 "$PV_BIN" device import "$T/devices.csv"
}
