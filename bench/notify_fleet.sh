#!/usr/bin/env bash
# bench/notify_fleet.sh — the whole push (spec 5.5) at fleet size: N `provisor fleet` phones
# (the push scenario, each with its SIP user agent on its own 127.A.B.C, fleet_sip.h) provision
# in-house from `provisor serve`, register their line (User_ID_1_ = the MAC) with Kamailio
# (tests/kamailio/registrar.cfg), then `provisor device resync --all --rate R/s --wait` sends one
# NOTIFY per device through Kamailio (PV_BENCH_DELIVERY=direct: straight to each phone, no
# Kamailio). Records the seconds from the command until every phone has resynced on its NOTIFY
# (the fleet's goal), the NOTIFY outcomes by cause, the CPU seconds the server and Kamailio
# spent in that window, and the fleet's CPU over its whole run (provisioning included). PV_BENCH_PHONES (default 10000), PV_BENCH_RATE (500).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/bench/lib.bash"
bench_begin notify-fleet
N=${PV_BENCH_PHONES:-10000}
RATE=${PV_BENCH_RATE:-500}
DELIVERY=${PV_BENCH_DELIVERY:-proxy}
B=${PV_BENCH_BIN:-$src/build/provisor} # a copy keeps a rebuild from replacing it mid-run
admin=$(port) http=$(port) https=$(port) kport=$(port udp) sip=$(port udp)
export PROVISOR_DATA=$W/data PROVISOR_ADMIN_URL=http://127.0.0.1:$admin
# CPU seconds (user + system) of a process so far
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# the same summed over Kamailio's processes (it forks its workers)
kcpu() {
  local p t=0
  for p in $(pgrep -f "$W/k.cfg"); do t=$(python3 -c "print($t + $(cpu "$p" 2>/dev/null || echo 0))"); done
  echo "$t"
}

mpath=$(dirname "$(find /usr/lib -path '*kamailio/modules/tm.so' | head -1)")
sed -e "s/@PORT@/$kport/" -e "s|@MPATH@|$mpath/|" "$src/tests/kamailio/registrar.cfg" >"$W/k.cfg"
kamailio -f "$W/k.cfg" -DD -E -Y "$W" -P "$W/k.pid" -m 256 -M 16 >"$W/kamailio.log" 2>&1 &
kpid=$!
pids+=("$kpid")
"$B" serve --data-dir "$W/data" --tftp off --http "127.0.0.1:$http" --https "127.0.0.1:$https" \
  --admin "127.0.0.1:$admin" --sip-outbound-proxy "127.0.0.1:$kport" --sip-timeout-ms 8000 \
  --sip-retries 2 --provisioning-random-delay-s 0 --provisioning-retry-delay 1+1 \
  >"$W/serve.out" 2>"$W/serve.log" &
spid=$!
pids+=("$spid")
wait_tcp "$admin"
"$B" account create fleet --settings \
  "{\"lines\":[{\"line\":1,\"user\":\"-\",\"password\":\"pw\"}],\"sip_delivery\":\"$DELIVERY\"}" >/dev/null
"$B" params set account:fleet 'User_ID_1_={{mac}}' 'Password_1_={{lines.0.password}}' \
  "Proxy_1_=127.0.0.1:$kport" "SIP_Port_1_=$sip" 'Register_Expires_1_=3600' >/dev/null
bench_fleet_phones "$B" "$N" fleet
"$B" fleet run --scenario push --phones "$N" --mix mpp --random-delay 0 --period 5 --duration 1800 \
  --max-in-flight 200 --server "http://127.0.0.1:$http" --ca "$W/data/tls/ca.pem" \
  --certs "$W/certs" --sip "$sip" --json >"$W/fleet.json" 2>"$W/fleet.err" &
fpid=$!
pids+=("$fpid")
prov0=$(date +%s.%N)
until [ "$("$B" device status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["by_state"].get("SEC-PRV-2", 0))')" = "$N" ]; do
  kill -0 "$fpid" || { cat "$W/fleet.err" >&2; exit 1; }
  sleep 2
done
until [ "$(grep -o 'registered sip:[0-9a-f]*@' "$W/kamailio.log" | sort -u | wc -l)" -ge "$N" ]; do
  sleep 1
done
prov1=$(date +%s.%N)
s0=$(cpu "$spid") k0=$(kcpu)
start=$(date +%s.%N)
"$B" device resync --all --rate "$RATE/s" --wait --timeout 1200 --json >"$W/job.json" || true
sent=$(date +%s.%N)
s1=$(cpu "$spid") k1=$(kcpu)
wait "$fpid" || true
end=$(date +%s.%N)
s2=$(cpu "$spid")
record "$(python3 - "$W/job.json" "$W/fleet.json" "$N" "$RATE" "$DELIVERY" \
  "$prov0" "$prov1" "$start" "$sent" "$end" "$s0" "$s1" "$s2" "$k0" "$k1" <<'PY'
import json, sys
a = sys.argv
t = open(a[1]).read()
job = json.JSONDecoder().raw_decode(t[t.index("{"):])[0]
fleet = json.load(open(a[2]))
prov0, prov1, start, sent, end = (float(x) for x in a[6:11])
s0, s1, s2, k0, k1 = (float(x) for x in a[11:16])
print(json.dumps({"bench": "notify-fleet", "phones": int(a[3]), "rate_per_s": int(a[4]),
                  "delivery": a[5],
                  "seconds_provisioned_and_registered": round(prov1 - prov0, 1),
                  "seconds_to_all_outcomes": round(sent - start, 2),
                  "seconds_to_all_resynced": round(end - start, 2),
                  "outcomes": {k: v for k, v in job["outcomes"].items() if v},
                  "fleet_reached": fleet["reached"], "fleet_stopped_by": fleet["stopped_by"],
                  "failures": fleet.get("failures"),
                  "cpu_s": {"server": round(s2 - s0, 2), "kamailio": round(k1 - k0, 2),
                            "fleet_whole_run": round(fleet["cost"]["cpu_s"], 1)},
                  "fleet_wall_s": round(fleet["cost"]["wall_s"], 1)}))
PY
)"
