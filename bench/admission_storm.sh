#!/usr/bin/env bash
# bench/admission_storm.sh — the admission storm figure of issue 15 (DESIGN 8): N factory phones
# (in-house: /$PSN.xml, /$MA.xml with the phone's certificate, then the encrypted profile) boot
# at once against a `provisor serve` that admits fewer renders and TLS handshakes a second than
# arrive. Requests wait in the admission queues up to the deadline, the rest get 503 with a
# Retry-After (a TLS alert for a handshake) and the phones retry on their own schedule: the
# figure is whether every phone ends provisioned, how long the admitted waited, how many were
# refused, and the time to 100 %.
#
#   bench/admission_storm.sh BUILD [N]   # N phones (default 100000; PV_STORM_PHONES)
#
# Knobs (environment): PV_STORM_RENDER_RATE (renders a second, default 300),
# PV_STORM_TLS_RATE (handshakes a second, default 300; 300 a second is still far below what the
# phones ask at once — every request of a 5000-phone run waits or is refused — while 150 made a
# 100 000-phone run last over an hour for no more insight), PV_STORM_DEADLINE_MS (default 5000),
# PV_STORM_IN_FLIGHT (the fleet's requests in flight, default 2000: one fleet process does
# every phone's side of every handshake, and with more at once it cannot answer the server
# within its 10 s handshake timeout on a 2-core machine — real phones each have their own CPU),
# PV_STORM_RETRY (the factory phones' Resync_Error_Retry_Delay before the server provisions
# its own, fleet --period; default 30 s), PV_STORM_DURATION (the fleet's bound in seconds,
# default 7200), PV_STORM_PER_SOURCE (connections per address per loop, default 20000; at the
# server's default of 256 the phones' plain-HTTP fetches beyond it are kept because their paths
# name their devices — docs/benchmarks.md compares the two). One fleet process runs every
# phone on one loop, all from ONE source address (an office behind NAT, the hard case for
# per-address limits). Results: bench/results/admission-<timestamp>.jsonl and the fleet's
# report beside it.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
N=${2:-${PV_STORM_PHONES:-100000}}
rate=${PV_STORM_RENDER_RATE:-300}
tls_rate=${PV_STORM_TLS_RATE:-300}
in_flight=${PV_STORM_IN_FLIGHT:-2000}
retry=${PV_STORM_RETRY:-30}
deadline=${PV_STORM_DEADLINE_MS:-5000}
limit=${PV_STORM_DURATION:-7200}
src=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/provisor"
. "$src/bench/lib.bash"
bench_begin admission
ulimit -n "$(ulimit -Hn)"

D="$W/data" HTTPS=$(port) ADMIN=$(port)
"$bin" serve --data-dir "$D" --workers 2 --tftp off --http "127.0.0.1:$(port)" --portal off \
  --https "127.0.0.1:$HTTPS" --admin "127.0.0.1:$ADMIN" --log-level "${PV_STORM_LOG:-warn}" \
  --provisioning-render-rate "$rate" --tls-handshake-rate "$tls_rate" \
  --provisioning-queue-deadline-ms "$deadline" --provisioning-admission-queue 100000 \
  --provisioning-retry-delay 10+20,20+40 --limits-max-connections 100000 \
  --limits-max-per-source "${PV_STORM_PER_SOURCE:-20000}" >"$W/serve.out" 2>"$W/serve.log" &
pv_pid=$!; pids+=($pv_pid)
wait_tcp "$ADMIN"
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN"
PROVISOR_TOKEN=$(grep -A1 '^Admin token' "$W/serve.out" | tail -1 | tr -d ' ')
export PROVISOR_TOKEN
t0=$(date +%s.%N)
"$bin" fleet certs --count "$N" --out "$W/certs" --mix mpp \
  --ca-cert "$D/manufacturer/demo-ca.pem" --ca-key "$D/manufacturer/demo-ca.key" >/dev/null
"$bin" account create office >/dev/null
{ echo "MAC,model,account"; for i in $(seq 0 $((N - 1))); do
  printf '00562b%06x,CP-8841-3PCC,office\n' "$i"; done; } >"$W/devices.csv"
"$bin" device import "$W/devices.csv" >/dev/null
t1=$(date +%s.%N)
echo "admission: $N phones' certificates and devices ready in $(python3 -c "print(round($t1 - $t0))") s (load $(loadavg))" >&2

metric() {
  curl -sS "http://127.0.0.1:$ADMIN/metrics" |
    awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}
cmd=("$bin" fleet run --scenario in-house --phones "$N" --mix mpp
  --server "https://127.0.0.1:$HTTPS" --ca "$D/tls/ca.pem" --certs "$W/certs"
  --source-addresses off --random-delay 0 --period "$retry" --max-in-flight "$in_flight"
  --duration "$limit" --report "$W/report" --json)
echo "admission: ${cmd[*]}" | sed "s|$W|\$W|g" >&2
load0=$(loadavg)
rc=0
"${cmd[@]}" >"$W/fleet.json" 2>"$W/fleet.err" || rc=$?
# what the server says: admitted, waited, refused, the wait histogram (p99 from its buckets)
curl -sS "http://127.0.0.1:$ADMIN/metrics" | grep '^provisor_admission_' >"$W/admission.prom"
# the server's peak resident memory over the whole storm (kB)
server_hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pv_pid/status")
provisioned=$(sqlite3 -cmd '.timeout 10000' "$D/provisor.db" \
  "SELECT count(*) FROM devices WHERE state = 'SEC-PRV-2'")
python3 - "$W/fleet.json" "$W/admission.prom" "$N" "$rate" "$tls_rate" "$deadline" "$rc" \
  "$provisioned" "$load0" "$(loadavg)" "$server_hwm" "${PV_STORM_PER_SOURCE:-20000}" <<'PY' | tee -a "$results"
import json, re, sys
r = json.load(open(sys.argv[1]))
n, rate, tls_rate, deadline, rc, provisioned = map(int, sys.argv[3:9])
m = {}
for line in open(sys.argv[2]):
    k, v = line.rsplit(" ", 1)
    m[k] = float(v)
def get(name, cls, extra=""):
    return m.get('%s{class="%s"%s}' % (name, cls, extra), 0)
def p99(cls):
    total = get("provisor_admission_wait_seconds_count", cls)
    les = sorted((float(re.search(r'le="([^"]+)"', k).group(1)), v) for k, v in m.items()
                 if k.startswith('provisor_admission_wait_seconds_bucket{class="%s"' % cls)
                 and '+Inf' not in k)
    for le, v in les:
        if total and v >= 0.99 * total:
            return le
    return None
t = r["time_to_goal"]
scenario_s = r["scenario_ms"] / 1000
out = {"bench": "admission_storm_https_in_house_one_address", "phones": n,
       "provisioned_store": provisioned, "reached": r["reached"], "exit": rc,
       "render_rate": rate, "tls_rate": tls_rate, "deadline_ms": deadline,
       "requests": r["requests"], "failed_requests": r["failed"], "peak_rps": r["peak_rps"],
       "arrival_requests_per_s": round(r["requests"] / max(scenario_s, 1e-3), 1),
       "time_to_50_s": t["p50_ms"] and t["p50_ms"] / 1000,
       "time_to_99_s": t["p99_ms"] and t["p99_ms"] / 1000,
       "time_to_100_s": t["p100_ms"] and t["p100_ms"] / 1000}
for cls in ("render", "tls"):
    adm = get("provisor_admission_admitted_total", cls)
    out[cls] = {"admitted": int(adm), "waited": int(get("provisor_admission_queued_total", cls)),
                "admitted_per_s": round(adm / max(scenario_s, 1e-3), 1),
                "refused_deadline": int(get("provisor_admission_refused_total", cls, ',reason="deadline"')),
                "refused_queue_full": int(get("provisor_admission_refused_total", cls, ',reason="queue_full"')),
                "abandoned": int(get("provisor_admission_abandoned_total", cls)),
                "wait_p99_le_s": p99(cls),
                "wait_max_ms": int(get("provisor_admission_wait_ms_max", cls))}
out["per_source"] = int(sys.argv[12])
out["fleet_cpu_s"] = round(r["cost"]["cpu_s"], 1)
out["server_rss_peak_mib"] = round(int(sys.argv[11]) / 1024, 1)
out["fleet_rss_peak_mib"] = round(r["cost"]["rss_peak_bytes"] / 1048576, 1)
out["load_before"], out["load_after"] = float(sys.argv[9]), float(sys.argv[10])
print(json.dumps(out))
PY
cp "$W/report/report.txt" "${results%.jsonl}.txt" 2>/dev/null || true
echo "admission: results in $results" >&2
