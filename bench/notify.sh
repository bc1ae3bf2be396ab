#!/usr/bin/env bash
# bench/notify.sh — the server's side of the push (spec 5.5) at fleet size: N devices in one
# account, `provisor device resync --all --rate R/s --wait` through [sip] outbound_proxy, where
# SIPp plays every phone behind the proxy (tests/sipp/phone_uas.xml: it challenges each NOTIFY
# and checks the Digest answer with verifyauth). Records the time until every device has an
# outcome and the outcomes by cause. PV_BENCH_PHONES (default 10000), PV_BENCH_RATE (500).
# What it does not measure: the resyncs the NOTIFYs cause (the phones are SIPp, not agents).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/bench/lib.bash"
bench_begin notify
N=${PV_BENCH_PHONES:-10000}
RATE=${PV_BENCH_RATE:-500}
B=$src/build/provisor
proxy=$(port udp)
admin=$(port)
http=$(port)
export PROVISOR_DATA=$W/data PROVISOR_ADMIN_URL=http://127.0.0.1:$admin
"$B" serve --tftp off --https off --http "127.0.0.1:$http" --admin "127.0.0.1:$admin" --portal off \
  --sip-outbound-proxy "127.0.0.1:$proxy" --sip-timeout-ms 8000 --sip-retries 2 \
  >"$W/serve.out" 2>"$W/serve.log" &
pids+=($!)
wait_tcp "$admin"
"$B" account create acme --settings '{"lines":[{"line":1,"user":"1001","password":"pw"}]}' >/dev/null
"$B" params set account:acme 'User_ID_1_={{lines.0.user}}' 'Password_1_={{lines.0.password}}' \
  'Proxy_1_=sip.bench.test' >/dev/null
python3 -c "
print('mac,model,account')
for i in range($N): print('0e0e%08x,CP-8841-3PCC,acme' % i)" >"$W/devices.csv"
"$B" device import "$W/devices.csv" >/dev/null
sed -e 's/@USER@/1001/' -e 's/@PASSWORD@/pw/' -e 's/@EVENT@/resync/' \
  "$src/tests/sipp/phone_uas.xml" >"$W/uas.xml"
(cd "$W" && exec sipp -sf "$W/uas.xml" -i 127.0.0.1 -p "$proxy" -m "$N" -timeout 600s -nostdin \
  >"$W/sipp.out" 2>&1) &
pids+=($!)
for _ in $(seq 100); do ss -uln | grep -q "127.0.0.1:$proxy " && break; sleep 0.1; done
start=$(date +%s.%N)
"$B" device resync --all --rate "$RATE/s" --wait --timeout 1200 --json >"$W/job.json" || true
end=$(date +%s.%N)
record "$(python3 - "$W/job.json" "$start" "$end" "$N" "$RATE" <<'PY'
import json, sys
t = sys.stdin.read() if False else open(sys.argv[1]).read()
job = json.JSONDecoder().raw_decode(t[t.index("{"):])[0]
print(json.dumps({"bench": "notify", "phones": int(sys.argv[4]), "rate_per_s": int(sys.argv[5]),
                  "seconds_to_all_outcomes": round(float(sys.argv[3]) - float(sys.argv[2]), 2),
                  "outcomes": {k: v for k, v in job["outcomes"].items() if v},
                  "attempts_max": max(d["attempts"] for d in job["devices"])}))
PY
)"
