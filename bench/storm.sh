#!/usr/bin/env bash
# bench/storm.sh — the boot storm (issue 6): N phones lose power and come back at once, over
# HTTPS with client certificates and per-device encrypted profiles, against `provisor serve`
# and then against nginx serving the same pre-rendered files with ssl_verify_client on.
#
#   bench/storm.sh BUILD [N]            # N phones (default 100000; PV_STORM_PHONES)
#   PV_STORM_CERT_POOL=K bench/storm.sh # phones share K certificates (default: one each)
#   PV_STORM_FETCHER=curl bench/storm.sh # the fleet on libcurl instead of its own client
#   PV_STORM_SERVE_VARIANTS="--limits-handshake-max-ms 10000;" bench/storm.sh
#                                       # provisor once per ';'-separated set of extra `serve`
#                                       # options (named provisor-1, provisor-2, ...), then nginx
#
# Same machine, same run, same fleet (provisor fleet run --scenario power-restore): time to
# 100 % provisioned, failures, requests per second, the server's peak resident memory (VmHWM;
# nginx: master + workers) and the fleet's own cost. Everything listens on 127.0.0.1; every
# run is bounded by --duration. Results: bench/results/storm-<timestamp>.jsonl and a summary.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
N=${2:-${PV_STORM_PHONES:-100000}}
pool=${PV_STORM_CERT_POOL:-0}
limit=${PV_STORM_DURATION:-1800}
mix=${PV_STORM_MIX:-mpp}
fetcher=${PV_STORM_FETCHER:-native} # the fleet's client: native (default) or curl
src=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/provisor"
. "$src/bench/lib.bash"
bench_begin storm
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
ulimit -n "$(ulimit -Hn)"

# --- server PKI (openssl), phone certificates (provisor fleet certs), the static tree -------
bench_server_pki storm-server-ca
ncerts=$N
[ "$pool" -gt 0 ] && [ "$pool" -lt "$N" ] && ncerts=$pool
t0=$(date +%s.%N)
"$bin" fleet certs --count "$ncerts" --out "$W/certs" --mix "$mix" >"$W/certs.out"
t1=$(date +%s.%N)
record "{\"bench\":\"fleet_certs_ec_p256\",\"count\":$ncerts,\"seconds\":$(python3 -c "print(round($t1 - $t0, 2))")}"
PV_HTTPS=$(port); NGINX_HTTPS=$(port)
"$bin" fleet profiles --phones "$N" --out "$W/root" --mix "$mix" \
  --server "https://127.0.0.1:$PV_HTTPS" >/dev/null
chmod -R a+rX "$W/root"

# --- the fleet: same command for both servers -----------------------------------------------
storm() { # NAME PORT SERVER_PIDS...
  local name=$1 p=$2; shift 2
  local pool_args=()
  [ "$ncerts" -lt "$N" ] && pool_args=(--cert-pool "$ncerts")
  local cmd=("$bin" fleet run --scenario power-restore --phones "$N" --mix "$mix"
    --server "https://127.0.0.1:$p" --ca "$W/pki/ca.pem" --certs "$W/certs" "${pool_args[@]}"
    --duration "$limit" --fetcher "$fetcher" --report "$W/report-$name" --json)
  echo "storm: ${cmd[*]}" | sed "s|$W|\$W|g" >&2
  local rc=0
  "${cmd[@]}" >"$W/$name.json" 2>"$W/$name.err" || rc=$?
  local hwm=0 pid
  for pid in "$@"; do hwm=$((hwm + $(hwm_kb "$pid"))); done
  python3 - "$W/$name.json" "$name" "$N" "$hwm" "$rc" "$ncerts" "$(loadavg)" "$fetcher" <<'PY' | tee -a "$results"
import json, sys
r = json.load(open(sys.argv[1])); name, n, hwm, rc, ncerts = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
c = r["cost"]; lat = r["phases"][0]["latency"]; t = r["time_to_goal"]
print(json.dumps({"bench": "boot_storm_https_client_cert_encrypted", "server": name, "phones": n,
  "certificates": ncerts, "reached": r["reached"], "failed_requests": r["failed"],
  "failures": r["failures"], "exit": rc,
  "time_to_50_s": t["p50_ms"] and t["p50_ms"] / 1000, "time_to_90_s": t["p90_ms"] and t["p90_ms"] / 1000,
  "time_to_99_s": t["p99_ms"] and t["p99_ms"] / 1000, "time_to_100_s": t["p100_ms"] and t["p100_ms"] / 1000,
  "requests_per_s_mean": round(r["requests"] / max(r["scenario_ms"] / 1000, 1e-3), 1),
  "latency_p50_ms": lat["p50_us"] / 1000, "latency_p99_ms": lat["p99_us"] / 1000,
  "server_vmhwm_mib": round(hwm / 1024, 1),
  "fleet_cpu_s": round(c["cpu_s"], 1), "fleet_wall_s": round(c["wall_s"], 1),
  "fleet_rss_peak_mib": round(c["rss_peak_bytes"] / 1048576, 1),
  "fleet_agent_bytes_per_phone": round(c["agent_bytes_per_phone"]),
  "fleet_rss_bytes_per_phone": round(c["rss_per_phone_bytes"]),
  "fleet_requests_per_cpu_s": round(r["requests"] / max(c["cpu_s"], 1e-3)),
  "fleet_cores": round(c["cpu_s"] / max(c["wall_s"], 1e-3), 2),
  "fleet_cpu_ms_per_request": round(1000 * c["cpu_s"] / max(r["requests"], 1), 3),
  "load_at_end": float(sys.argv[7]), "fetcher": sys.argv[8]}))
PY
  cp "$W/report-$name/report.txt" "${results%.jsonl}-$name.txt"
  cp "$W/report-$name/plot.svg" "${results%.jsonl}-$name.svg"
}

# --- provisor serve: 2 loop threads, its DEFAULT per-address limits: each simulated phone
# connects from its own 127.A.B.C (fleet --source-addresses, on by default) --------------------
variants=("")
if [ -n "${PV_STORM_SERVE_VARIANTS:-}" ]; then # a trailing ';' is an empty (default) set
  IFS=';' read -ra variants <<<"$PV_STORM_SERVE_VARIANTS;."
  unset 'variants[${#variants[@]}-1]'
fi
for i in "${!variants[@]}"; do
  name=provisor; [ ${#variants[@]} -eq 1 ] || name=provisor-$((i + 1))
  [ -z "${variants[i]}" ] || echo "storm: $name: serve ${variants[i]}" >&2
  # shellcheck disable=SC2086 # the variant is a list of options
  bench_fleet_serve "$bin" "$name" 2 "$PV_HTTPS" --tftp off --http off \
    --https "127.0.0.1:$PV_HTTPS" ${variants[i]}
  pv_pid=$SERVE_PID
  storm "$name" "$PV_HTTPS" "$pv_pid"
  kill "$pv_pid"; wait "$pv_pid" 2>/dev/null || true
done

# --- nginx: the reference, same files, ssl_verify_client on, 2 workers ---------------------
mkdir -p "$W/nginx/logs"
cat >"$W/nginx/nginx.conf" <<NGX
worker_processes 2;
pid $W/nginx/nginx.pid;
error_log $W/nginx/logs/error.log;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NGINX_HTTPS ssl; root $W/root;
    ssl_certificate $W/pki/server.pem; ssl_certificate_key $W/pki/server.key;
    ssl_client_certificate $W/certs/ca.pem; ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
  }
}
NGX
nginx -c "$W/nginx/nginx.conf" -g 'daemon off;' &
ng_pid=$!; pids+=($ng_pid)
wait_tcp "$NGINX_HTTPS"
storm nginx "$NGINX_HTTPS" $ng_pid $(pgrep -P $ng_pid)
echo "storm: results in $results" >&2
