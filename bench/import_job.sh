#!/usr/bin/env bash
# bench/import_job.sh — a CSV import run by the server (issue 13; docs/api.md "Import jobs")
# against the command line's batches of the same file, in the same run (docs/benchmarks.md
# "Import jobs"):
#  1. `provisor device import FILE` (the CLI's 1 000-row batches to POST /devices:import) into a
#     fresh store: the reference, rows/s by the wall clock;
#  2. the same file uploaded once to POST /import-jobs into another fresh store, the job's rows/s
#     from the upload to its state "done" (polled every 50 ms);
#  3. while that job runs, the admin loop's answer time: sequential GET /healthz on the admin
#     listener for as long as the job runs, their median and 99th percentile, against
#     PV_BENCH_PINGS (default 200) with no job running (the slices of 500 rows / 50 ms must
#     leave the loop answering).
#   bench/import_job.sh [N]    # rows (default 200 000: about 8 MiB, under [admin] max_body_bytes)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/bench/lib.bash"
bench_begin import_job
N=${1:-200000}
PINGS=${PV_BENCH_PINGS:-200}
B=$src/build/provisor
python3 - "$N" >"$W/devices.csv" <<'PY'
import sys
n = int(sys.argv[1])
print("MAC,model,account,serial")
for i in range(n):
    m = 0x000e08000000 + i
    print("%s,%s,acme-telecom,FCH%07d" % (":".join("%02x" % ((m >> s) & 255) for s in range(40, -8, -8)),
                                          "CP-8841-3PCC" if i % 3 else "SPA504G", i))
PY
serve() { # serve NAME: a fresh data directory and server; sets spid, admin, PROVISOR_*
  local http; http=$(port); admin=$(port)
  export PROVISOR_DATA=$W/$1 PROVISOR_ADMIN_URL=http://127.0.0.1:$admin
  "$B" serve --tftp off --https off --http "127.0.0.1:$http" --admin "127.0.0.1:$admin" \
    --portal off >"$W/$1.out" 2>"$W/$1.log" &
  spid=$!
  pids+=($spid)
  wait_tcp "$admin"
  "$B" account create acme-telecom >/dev/null
}
ping50() { # 50 GET /healthz on one kept-alive connection (one curl: a loaded machine starts
  # processes slowly), one answer time (s) a line
  local args=() _
  for _ in $(seq 50); do args+=(-o /dev/null "http://127.0.0.1:$admin/healthz"); done
  curl -s -w '%{time_total}\n' "${args[@]}"
}
pings() { # pings FILE: PINGS GET /healthz
  for _ in $(seq $((PINGS / 50))); do ping50; done >"$1"
}
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p/100); if (i<1) i=1; printf "%.2f", a[i]*1000}'; }

# 1. the reference: the CLI's batches
serve cli
t0=$(date +%s.%N)
"$B" device import "$W/devices.csv" >"$W/cli.out"
t1=$(date +%s.%N)
cli_rps=$(python3 -c "print(round($N / ($t1 - $t0)))")
pings "$W/idle"
kill "$spid"; wait "$spid" 2>/dev/null || true

# 2-3. the server's job, pinged while it runs
serve job
token=$(grep -A1 '^Admin token' "$W/job.out" | tail -1 | tr -d ' ')
t0=$(date +%s.%N)
curl -sS -o "$W/job.json" -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' \
  --data-binary "@$W/devices.csv" "http://127.0.0.1:$admin/api/v1/import-jobs?file=devices.csv"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$W/job.json")
# pings for as long as the job runs
(while [ ! -e "$W/done" ]; do ping50; done >"$W/busy") &
ping_pid=$!
while ! curl -sS -H "Authorization: Bearer $token" "http://127.0.0.1:$admin/api/v1/import-jobs/$id" |
  grep -q '"state":"done"'; do sleep 0.05; done
t1=$(date +%s.%N)
touch "$W/done"
sort -n "$W/busy" | tail -5 | tr "\n" " " >&2; echo >&2
wait "$ping_pid"
job_rps=$(python3 -c "print(round($N / ($t1 - $t0)))")
grep -E "slow_slice|import\." "$W/job.log" >&2 || true
record "$(printf '{"bench":"import_job","rows":%d,"cli_rows_per_s":%d,"job_rows_per_s":%d,"ratio_job_to_cli":%s,"healthz_idle_p50_ms":%s,"healthz_idle_p99_ms":%s,"healthz_during_job_p50_ms":%s,"healthz_during_job_p99_ms":%s,"healthz_during_job_max_ms":%s,"pings_during_job":%d,"load":%s}' \
  "$N" "$cli_rps" "$job_rps" "$(python3 -c "print(round($job_rps / $cli_rps, 2))")" \
  "$(pct "$W/idle" 50)" "$(pct "$W/idle" 99)" "$(pct "$W/busy" 50)" "$(pct "$W/busy" 99)" "$(pct "$W/busy" 100)" \
  "$(wc -l <"$W/busy")" "$(loadavg)")"
