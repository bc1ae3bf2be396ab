#!/usr/bin/env bash
# bench/provision.sh — the provisioning server benchmark of issue 4, same machine, same run.
#
#   bench/provision.sh BUILD [N] [SECONDS]      # N devices in the store (default 100000)
#   PV_BENCH_DB=postgres bench/provision.sh ...  # the same on a private PostgreSQL 15 that the
#                                                # script starts (unix socket only) and stops
#   PV_BENCH_DATA=DIR bench/provision.sh ...     # SQLite: keep the seeded data directory in DIR
#                                                # and reuse it when it holds N devices (seeding
#                                                # 1 000 000 takes half an hour here)
#   PV_BENCH_PARTS=seed,https,http               # the parts to run (default all three)
#   PV_BENCH_SERVE_ARGS="--provisioning-cache-entries 1"  # more `provisor serve` options (here:
#                                                # a cache of one device per loop, i.e. none)
#
# 1. Seeds N devices (accounts, layered parameters with placeholders, confirmed keys and secret
#    directories) through the store API (bench/seed_store.c) and issues 500 phone certificates
#    from the data directory's demo manufacturer CA; times the seeding.
# 2. Renders+encrypts random devices in-process (one thread, no cache): renders/s, p50/p99.
# 3. HTTPS with client certificates, `provisor serve` (2 workers, log on, per-device encrypted
#    profile /<dir>/<mac>.cfg rendered from the store) against nginx (2 workers, access log on,
#    one static file of the same size) with the same server certificate, the same client CA,
#    no session resumption, and the same client (bench/https_load.c): every connection is a
#    full handshake with a phone certificate plus one GET. Alternated, twice each.
# 4. Plain HTTP per-device fetches of random devices among all N through the server: "cold"
#    (each loop's profile cache holds 4 096 of N devices, so nearly every answer reads the store
#    and renders), then "warm" (the same load on 2 000 devices, after 16 000 requests that fill
#    the caches: answers without a store read); the server's VmRSS/VmHWM at rest and under load.
# Every result line carries the 1-minute load average (a shared machine), and the server's
# profile cache counters after each load.
#
# Loopback only; every load is bounded in time. Results: JSON lines on stdout and in
# bench/results/provision-<timestamp>.jsonl.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
n=${2:-100000}
seconds=${3:-10}
src=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/provisor"
certs=500
conc=${PV_BENCH_CONC:-32}
. "$src/bench/lib.bash"
bench_begin provision
mem() { awk '/^VmRSS|^VmHWM/ {sub(":", "", $1); printf "%s\"%s_kb\":%s", n++ ? "," : "", $1, $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
D="$W/data"
out="$W/out"
parts=${PV_BENCH_PARTS:-seed,https,http}
part() { case ",$parts," in *",$1,"*) return 0 ;; esac; return 1; }
keep=${PV_BENCH_DATA:-}
if [ -n "$keep" ] && [ "${PV_BENCH_DB:-sqlite}" = sqlite ]; then
  mkdir -p "$keep"; D=$(cd "$keep" && pwd); out="$D/bench-out"
fi

# --- 0. the store: SQLite in the data directory, or a private PostgreSQL (lib.bash) ----------
db_url=""
if [ "${PV_BENCH_DB:-sqlite}" = postgres ]; then
  bench_pg_start
  bench_pg_db provisor
  db_url=$PG_DB_URL
fi
export PV_BENCH_DB=$db_url

# --- 1. data directory (first run), then the seed --------------------------------------------
PV_HTTP=$(port); PV_HTTPS=$(port); PV_ADMIN=$(port); PV_TFTP=$(port)
serve() {
  "$bin" serve --data-dir "$D" --workers 2 --tftp "127.0.0.1:$PV_TFTP" --http "127.0.0.1:$PV_HTTP" \
    --https "127.0.0.1:$PV_HTTPS" --admin "127.0.0.1:$PV_ADMIN" --portal off --client-cert required \
    --tls-session-tickets no --limits-max-per-source 100000 --limits-max-connections 100000 \
    ${db_url:+--db "$db_url"} ${PV_BENCH_SERVE_ARGS:-} "$@" >>"$W/provisor.out" 2>>"$W/provisor.log" &
  PV_PID=$!
  pids+=("$PV_PID")
  wait_tcp "$PV_HTTP"; wait_tcp "$PV_HTTPS"
}
db_kind=sqlite; [ -z "$db_url" ] || db_kind=postgres
if [ -n "$keep" ] && [ "$(cat "$D/bench-seeded" 2>/dev/null)" = "$n" ]; then
  record "{\"bench\":\"seed\",\"devices\":$n,\"reused\":\"$keep\"}"
else
  serve; kill -TERM "$PV_PID"; wait "$PV_PID" || true
  seeded=$("$build/seed_store" seed "$D" "$n" "$certs" "$out")
  db_mb=$(bench_db_mb "$db_url" "$D/provisor.db")
  record "${seeded%\}},\"db\":\"$db_kind\",\"db_mb\":$db_mb,\"load\":$(loadavg)}"
  [ -z "$keep" ] || echo "$n" >"$D/bench-seeded"
fi
part seed && record "$("$build/seed_store" render "$D" "$n" "$seconds")"
part https || part http || exit 0

# --- 2. servers -------------------------------------------------------------------------------
serve
sleep 1
record "{\"bench\":\"provisor_memory_at_rest\",\"devices\":$n,$(mem "$PV_PID")}"
# The loops' profile cache counters (docs/provisioning.md "The profile cache"), as JSON.
cache_stats() {
  curl -sS "http://127.0.0.1:$PV_ADMIN/metrics" | awk '/^provisor_profile_cache_[a-z_]* / {
    sub("provisor_profile_cache_", "", $1); printf "%s\"%s\":%s", n++ ? "," : "", $1, $2 }'
}
# The static file for nginx: a real encrypted profile of the same size provisor serves.
read -r i0 path0 key0 < <(head -1 "$out/targets.txt")
curl -sS --fail --cacert "$D/tls/ca.pem" --cert "$out/phones/$i0.pem" \
  -o "$W/profile.cfg" "https://127.0.0.1:$PV_HTTPS$path0"
openssl enc -d -aes-256-cbc -md md5 -k "$key0" -in "$W/profile.cfg" | grep -q '<User_ID_1_ ua="ro">100000</User_ID_1_>' ||
  { echo "bench: device 0's profile does not decrypt to its account's parameters" >&2; exit 1; }
mkdir -p "$W/root"
cp "$W/profile.cfg" "$W/root/profile.cfg"; chmod -R a+rX "$W/root"
NG_HTTPS=$(port)
nginx_start "$W/nginx" "$W/root" - "$NG_HTTPS" "$D/tls/server.pem" "$D/tls/server.key" \
  "$D/manufacturer/bundle.pem"
NG_PID=$NGINX_PID

# --- 3. HTTPS with client certificates: provisor vs nginx ------------------------------------
if part https; then
load_tls() { # PORT [PATH]
  "$build/https_load" -p "$1" -t "$out/targets.txt" -C "$out/phones" -a "$D/tls/ca.pem" \
    -c "$conc" -d "$seconds" ${2:+-P "$2"}
}
# CPU seconds the server's processes used during one load (utime+stime, all threads/workers).
ng_ticks() { local t=0; for p in $(pgrep -P "$NG_PID") "$NG_PID"; do t=$((t + $(cpu_ticks "$p"))); done; echo $t; }
hz=$(getconf CLK_TCK)
secs() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'; }
pv_sum=0; ng_sum=0; pv_cpu=0; ng_cpu=0
# Warm-up, not measured: each of the $certs phones a few times on both servers, so that the
# measured rounds see what a fleet of unchanged phones costs (provisor: each loop's profile
# cache holds every phone; nginx: its file in the page cache). Bounded in time.
"$build/https_load" -p "$NG_HTTPS" -t "$out/targets.txt" -C "$out/phones" -a "$D/tls/ca.pem" \
  -c "$conc" -d 120 -n $((certs * 4)) -P /profile.cfg >/dev/null
"$build/https_load" -p "$PV_HTTPS" -t "$out/targets.txt" -C "$out/phones" -a "$D/tls/ca.pem" \
  -c "$conc" -d 120 -n $((certs * 4)) >/dev/null
for round in 1 2; do
  c0=$(ng_ticks); ng=$(load_tls "$NG_HTTPS" /profile.cfg); c1=$(ng_ticks)
  record "{\"bench\":\"https_client_cert_full_handshake_get\",\"server\":\"nginx\",\"round\":$round,\"file\":\"static $(stat -c %s "$W/root/profile.cfg") bytes\",\"server_cpu_s\":$(secs $((c1 - c0))),\"client\":$ng}"
  ng_cpu=$((ng_cpu + c1 - c0))
  c0=$(cpu_ticks "$PV_PID"); pv=$(load_tls "$PV_HTTPS"); c1=$(cpu_ticks "$PV_PID")
  record "{\"bench\":\"https_client_cert_full_handshake_get\",\"server\":\"provisor\",\"round\":$round,\"file\":\"per-device encrypted\",\"server_cpu_s\":$(secs $((c1 - c0))),\"under_load\":{$(mem "$PV_PID")},\"client\":$pv}"
  pv_cpu=$((pv_cpu + c1 - c0))
  pv_sum=$(python3 -c "import json,sys; print($pv_sum + json.loads(sys.argv[1])['ok'])" "$pv")
  ng_sum=$(python3 -c "import json,sys; print($ng_sum + json.loads(sys.argv[1])['ok'])" "$ng")
done
# Throughput is bounded by the one-thread client on a shared 2-core machine; the server CPU
# per answered request is the fairer comparison: ratio_cpu = nginx ms / provisor ms.
record "$(python3 -c "
pv, ng, pc, nc, hz = $pv_sum, $ng_sum, $pv_cpu, $ng_cpu, $hz
pms, nms = 1000 * pc / hz / max(pv, 1), 1000 * nc / hz / max(ng, 1)
print('{\"bench\":\"https_ratio\",\"provisor_ok\":%d,\"nginx_ok\":%d,\"ratio_throughput\":%.3f,\"provisor_cpu_ms_per_req\":%.3f,\"nginx_cpu_ms_per_req\":%.3f,\"ratio_cpu\":%.3f,\"load\":$(loadavg),\"cache\":{$(cache_stats)}}' % (pv, ng, pv / max(ng, 1), pms, nms, nms / pms))")"
fi
part http || exit 0

# --- 4. plain HTTP, random devices among all N (cold: caches hold few), then a warm set --------
# Memory is sampled halfway through the load; CPU as in part 3.
http_load() { # NAME PATHS
  ( sleep "$((seconds / 2))"; echo "{$(mem "$PV_PID")}" >"$W/mem.mid" ) &
  local c0 c1 h
  c0=$(cpu_ticks "$PV_PID")
  h=$("$build/https_load" -p "$PV_HTTP" -l "$2" -c "$conc" -d "$seconds")
  c1=$(cpu_ticks "$PV_PID")
  wait $! 2>/dev/null || true
  record "{\"bench\":\"$1\",\"devices\":$n,\"paths\":$(wc -l <"$2"),\"server_cpu_s\":$(secs $((c1 - c0))),\"load\":$(loadavg),\"under_load\":$(cat "$W/mem.mid"),\"after\":{$(mem "$PV_PID")},\"cache\":{$(cache_stats)},\"client\":$h}"
}
hz=${hz:-$(getconf CLK_TCK)}
secs() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'; }
http_load http_random_device_profiles "$out/paths.txt"
# The warm set: 2 000 devices, filled by 16 000 requests first (each loop then holds ~98 % of
# them whichever loop each request lands on: 1 - e^-4), bounded in time too.
shuf -n 2000 --random-source=<(yes) "$out/paths.txt" >"$W/hot.txt"
"$build/https_load" -p "$PV_HTTP" -l "$W/hot.txt" -c "$conc" -d 120 -n 16000 >/dev/null
http_load http_warm_set_profiles "$W/hot.txt"
served=$(grep -c 'event=' "$W/provisor.log" || true)
record "{\"bench\":\"provisor_log_lines\",\"lines\":$served}"
