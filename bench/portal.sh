#!/usr/bin/env bash
# bench/portal.sh — the customer portal's two costs (docs/benchmarks.md "Portal"):
#  1. logins: PV_BENCH_LOGINS (default 200) portal logins by PV_BENCH_CLIENTS (4) curl clients at
#     once, each a new TLS connection, a POST /login with the right password (argon2id verify,
#     the session stored); logins/s by the wall clock and the server's CPU per login
#     (/proc/PID/stat). The rate limit per address is raised for it (all come from 127.0.0.1).
#  2. one bind: `provisor phone` with a demo certificate resyncs to /init/CODE (a code from the
#     portal's own page) and reaches SEC-PRV-2; the wall time from the command to SEC-PRV-2 and
#     the server's CPU for it, over PV_BENCH_BINDS (default 5) phones one after another.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/bench/lib.bash"
bench_begin portal
LOGINS=${PV_BENCH_LOGINS:-200}
CLIENTS=${PV_BENCH_CLIENTS:-4}
BINDS=${PV_BENCH_BINDS:-5}
B=$src/build/provisor
http=$(port) https=$(port) admin=$(port) portal=$(port)
export PROVISOR_DATA=$W/data PROVISOR_ADMIN_URL=http://127.0.0.1:$admin
"$B" serve --tftp off --http "127.0.0.1:$http" --https "127.0.0.1:$https" --admin "127.0.0.1:$admin" \
  --portal "127.0.0.1:$portal" --portal-logins-per-minute 1000000 >"$W/serve.out" 2>"$W/serve.log" &
spid=$!
pids+=($spid)
wait_tcp "$portal"
"$B" account create acme --settings '{"lines":[{"line":1,"user":"1001"}]}' >/dev/null
"$B" params set account:acme 'User_ID_1_={{lines.0.user}}' >/dev/null
printf '%s\n' 'bench password 1' | "$B" customer create acme alice --password-stdin >/dev/null
cpu() { awk '{print $14 + $15}' "/proc/$spid/stat"; } # utime + stime, clock ticks
hz=$(getconf CLK_TCK)
U="https://127.0.0.1:$portal"

# --- 1. logins
per=$((LOGINS / CLIENTS))
c0=$(cpu) t0=$(date +%s.%N)
for c in $(seq "$CLIENTS"); do
  (for _ in $(seq "$per"); do
    curl -sk -o /dev/null -w '%{http_code}\n' -d 'login=alice&password=bench+password+1' "$U/login"
  done >"$W/client$c") &
done
wait $(jobs -p | grep -v "$spid") 2>/dev/null || true
t1=$(date +%s.%N) c1=$(cpu)
ok=$(cat "$W"/client* | grep -c '^303$' || true)
record "$(python3 -c "
import json
w = $t1 - $t0; cpu = ($c1 - $c0) / $hz
print(json.dumps({'bench': 'portal_logins', 'logins': $ok, 'asked': $((per * CLIENTS)), 'clients': $CLIENTS,
  'seconds': round(w, 2), 'logins_per_s': round($ok / w, 1), 'server_cpu_ms_per_login': round(cpu * 1000 / max($ok, 1), 1),
  'argon2id': 'm=19456,t=2,p=1', 'load': $(loadavg)}))")"

# --- 2. binds
total_ms=0 total_cpu=0
for i in $(seq "$BINDS"); do
  mac=$(printf '000e08be%04x' "$i")
  "$B" phone cert --mac "$mac" --model CP-8841-3PCC --data-dir "$W/data" --out "$W/p$i.pem" >/dev/null
  "$B" phone --state-dir "$W/p$i" --web 127.0.0.1:0 --mac "$mac" --model CP-8841-3PCC \
    --cert "$W/p$i.pem" --key "$W/p$i.pem" --ca "$W/data/tls/ca.pem" >"$W/p$i.out" 2>"$W/p$i.log" &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$W/p$i/web" ] && break; sleep 0.05; done
  phone=$(cat "$W/p$i/web")
  code=$("$B" code create acme --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
  c0=$(cpu) t0=$(date +%s%N)
  curl -s -o /dev/null "http://$phone/admin/resync?https://127.0.0.1:$https/init/$code"
  for _ in $(seq 2000); do
    curl -s "http://$phone/admin/status.xml" | grep -q '<Provisioning_State[^>]*>SEC-PRV-2<' && break
    sleep 0.01
  done
  t1=$(date +%s%N) c1=$(cpu)
  total_ms=$((total_ms + (t1 - t0) / 1000000))
  total_cpu=$((total_cpu + c1 - c0))
done
record "$(python3 -c "
import json
print(json.dumps({'bench': 'portal_bind', 'binds': $BINDS, 'ms_to_sec_prv_2': round($total_ms / $BINDS, 1),
  'server_cpu_ms_per_bind': round($total_cpu * 1000 / $hz / $BINDS, 1), 'load': $(loadavg)}))")"
