#!/usr/bin/env bash
# bench/capacity.sh — the fleet check of docs/capacity.md: N `provisor fleet` phones (default
# 10 000, 1/100 of the model's 1 000 000) boot at once as factory phones that the provider
# imported (the in-house scenario: /$PSN.xml, then /$MA.xml with the phone's certificate, then
# its own encrypted profile — SEC-PRV-2), every request a new TLS 1.3 handshake with a client
# certificate, against `provisor serve --workers 2` on its default limits and admission. Prints
# the model's prediction beside what was measured: requests, server CPU, fleet CPU, time to
# 100 %.
#
#   bash bench/capacity.sh [BUILD] [N]
#   PV_BENCH_DB=postgres  the store on a private PostgreSQL 15 (lib.bash), its CPU measured too
#   PV_CAP_SERVER_MS      server CPU per HTTPS request the model takes (default 1.25: c_req of
#                         docs/capacity.md, the issue 4 HTTPS row of docs/benchmarks.md — handshake,
#                         client certificate, a cached answer — plus a render)
#   PV_CAP_FLEET_MS       the fleet's CPU per HTTPS request (default 2.07: docs/benchmarks.md
#                         "Follow-ups: parsed TLS credentials", own source address per phone)
#   PV_CAP_REQUESTS       requests per phone the model expects (default 4: the in-house resync
#                         as the fleet makes it, docs/capacity.md)
#   PV_CAP_HANDSHAKE_RATE the server's [https] handshake_rate (default 0: none), the storm
#                         admission docs/capacity.md has a node set to what its cores can do
#
# The fleet, the server (and PostgreSQL) share this machine's cores, so the model's time to
# 100 % is (server + fleet [+ PostgreSQL] CPU) / cores when the work is CPU-bound; the load
# average beside the result says how much of the cores the run had. One result line in
# bench/results/capacity-<time>.jsonl.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
N=${2:-10000}
. "$src/bench/lib.bash"
bench_begin capacity
cp "$build/provisor" "$W/provisor" # a rebuild does not replace it mid-run
B=$W/provisor
admin=$(port) http=$(port) https=$(port)
export PROVISOR_DATA=$W/data PROVISOR_ADMIN_URL=http://127.0.0.1:$admin
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
db_url=""
pg_cpu() { echo 0; }
if [ "${PV_BENCH_DB:-sqlite}" = postgres ]; then
  bench_pg_start
  bench_pg_db capacity
  db_url=$PG_DB_URL
  # the postmaster's own CPU and its reaped children's (every backend: they end with the server)
  pg_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15 + $16 + $17) / hz }' \
    "/proc/$(head -1 "$W/pg/data/postmaster.pid")/stat"; }
fi
"$B" serve --data-dir "$W/data" ${db_url:+--db "$db_url"} --workers 2 --tftp off \
  --http "127.0.0.1:$http" --https "127.0.0.1:$https" --admin "127.0.0.1:$admin" \
  --tls-handshake-rate "${PV_CAP_HANDSHAKE_RATE:-0}" >"$W/serve.out" 2>"$W/serve.log" &
spid=$!
pids+=("$spid")
wait_tcp "$admin"
# the token a first start prints (on PostgreSQL the data directory is new but the CLI finds no
# token file of its own to read)
tok=$(grep -A1 '^Admin token' "$W/serve.out" | tail -1 | tr -d ' ' || true)
[ -z "$tok" ] || export PROVISOR_TOKEN=$tok
"$B" account create office >/dev/null
bench_fleet_phones "$B" "$N" office
sleep 2 # the import's backends reaped before the PostgreSQL baseline
s0=$(cpu "$spid") p0=$(pg_cpu) load0=$(loadavg)
"$B" fleet run --scenario in-house --phones "$N" --mix mpp --random-delay 0 --duration 3600 \
  --server "https://127.0.0.1:$https" --ca "$W/data/tls/ca.pem" --certs "$W/certs" \
  --report "$W/report" --json >"$W/fleet.json" 2>"$W/fleet.err" || true
s1=$(cpu "$spid") load1=$(loadavg)
state=$("$B" device status --json)
kill -TERM "$spid"
wait "$spid" || true
sleep 1
p1=$(pg_cpu)
record "$(python3 - "$W/fleet.json" "$N" "$s0" "$s1" "$p0" "$p1" "$load0" "$load1" "$(nproc)" \
  "${PV_CAP_SERVER_MS:-1.25}" "${PV_CAP_FLEET_MS:-2.07}" "${PV_CAP_REQUESTS:-4}" \
  "${PV_BENCH_DB:-sqlite}" "$state" "${PV_CAP_HANDSHAKE_RATE:-0}" <<'PY'
import json, sys
a = sys.argv
f = json.load(open(a[1]))
n = int(a[2])
server = float(a[4]) - float(a[3])
pg = float(a[6]) - float(a[5])
cores = int(a[9])
c_srv, c_fleet, per_phone = float(a[10]), float(a[11]), float(a[12])
requests = f["requests"]
fleet_cpu = f["cost"]["cpu_s"]
t100 = f["time_to_goal"]["p100_ms"] / 1000 if f["time_to_goal"]["p100_ms"] else None
pred_req = n * per_phone
pred_srv = pred_req * c_srv / 1000
pred_fleet = pred_req * c_fleet / 1000
print(json.dumps({
    "bench": "capacity", "phones": n, "store": a[13], "cores": cores,
    "handshake_rate": int(a[15]),
    "loadavg": [float(a[7]), float(a[8])],
    "reached": f["reached"], "failed_requests": f["failed"], "failures": f.get("failures"),
    "by_state": json.loads(a[14]).get("by_state"),
    "predicted": {"requests": pred_req, "server_cpu_s": round(pred_srv, 1),
                  "fleet_cpu_s": round(pred_fleet, 1),
                  "time_to_100_s_on_free_cores": round((pred_srv + pred_fleet) / cores, 1)},
    "measured": {"requests": requests, "server_cpu_s": round(server, 1),
                 "postgres_cpu_s": round(pg, 1), "fleet_cpu_s": round(fleet_cpu, 1),
                 "server_cpu_ms_per_request": round(server * 1000 / max(requests, 1), 3),
                 "postgres_cpu_ms_per_request": round(pg * 1000 / max(requests, 1), 3),
                 "fleet_cpu_ms_per_request": round(fleet_cpu * 1000 / max(requests, 1), 3),
                 "time_to_50_s": f["time_to_goal"]["p50_ms"] / 1000,
                 "time_to_100_s": t100, "wall_s": f["cost"]["wall_s"],
                 "cores_used": round((server + pg + fleet_cpu) / f["cost"]["wall_s"], 2),
                 "time_to_100_s_predicted_from_measured_cpu":
                     round((server + pg + fleet_cpu) / cores, 1)}}))
PY
)"
