#!/usr/bin/env bash
# bench/run.sh — Provisor against the reference servers, same machine, same run.
#
#   make bench                       # everything
#   bench/run.sh BUILD [NAME...]     # some: https_handshakes http_keepalive tftp_small tftp_large tftp_storm
#
# Every server listens on 127.0.0.1 only; every load is bounded in time. Results: one JSON line
# per measurement in bench/results/<timestamp>.jsonl, and a summary on stdout that
# docs/benchmarks.md quotes with this command.
set -euo pipefail
build=$(cd "${1:-build}" && pwd); shift || true
src=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/provisor"
seconds=${PV_BENCH_SECONDS:-10}
rounds=${PV_BENCH_ROUNDS:-3} # each figure: the median of this many alternating runs
atftpd=${PV_BENCH_TOOLS:-/var/cache/provisor-bench}/usr/sbin/atftpd
. "$src/bench/lib.bash"
bench_begin

# --- files and PKI (EC P-256, as a modern phone would present) -----------------------------
mkdir -p "$W/root" "$W/pki"
head -c 1024 /dev/urandom | base64 -w 76 | head -c 1000 >"$W/root/small.xml"
head -c 4096 /dev/urandom >"$W/root/4k.bin"
head -c 50000000 /dev/urandom >"$W/root/50m.bin"
chmod -R a+rX "$W/root"
bench_server_pki bench-server-ca
(
  cd "$W/pki"
  ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
  ec mfg.key; openssl req -x509 -new -key mfg.key -subj "/CN=bench manufacturer CA" -days 2 -out mfg.pem 2>/dev/null
  ec phone.key; openssl req -new -key phone.key -subj "/CN=phone/OU=CP-8841-3PCC/L=88012BA01234/ST=000e08abcdef" -out phone.csr 2>/dev/null
  openssl x509 -req -in phone.csr -CA mfg.pem -CAkey mfg.key -CAcreateserial -days 2 -out phone.pem 2>/dev/null
)

# --- servers --------------------------------------------------------------------------------
start_nginx() {
  NGINX_HTTP=$(port tcp); NGINX_HTTPS=$(port tcp)
  nginx_start "$W/nginx" "$W/root" "$NGINX_HTTP" "$NGINX_HTTPS" "$W/pki/server.pem" \
    "$W/pki/server.key" "$W/pki/mfg.pem"
}

start_provisor() {
  PV_TFTP=$(port udp); PV_HTTP=$(port tcp); PV_HTTPS=$(port tcp); PV_ADMIN=$(port tcp)
  "$bin" serve --data-dir "$W/pv-data" --root "$W/root" --workers 2 \
    --tftp "127.0.0.1:$PV_TFTP" --http "127.0.0.1:$PV_HTTP" --https "127.0.0.1:$PV_HTTPS" \
    --admin "127.0.0.1:$PV_ADMIN" --portal off --tls-cert "$W/pki/server.pem" --tls-key "$W/pki/server.key" \
    --client-ca "$W/pki/mfg.pem" --client-cert required --tls-session-tickets no --provisioning no \
    --limits-max-requests-per-connection 100000 --limits-max-per-source 4096 \
    --tftp-max-per-source 4096 --tftp-requests-per-second 1000000 --tftp-max-transfers 4096 \
    >"$W/provisor.out" 2>"$W/provisor.log" &
  pids+=($!)
  PV_PID=$!
  wait_tcp "$PV_HTTP"; wait_tcp "$PV_HTTPS"
}

start_tftpds() {
  HPA_PORT=$(port udp); ATFTPD_PORT=$(port udp)
  /usr/sbin/in.tftpd -L -s "$W/root" -a "127.0.0.1:$HPA_PORT" -u root & pids+=($!)
  HPA_PID=$!
  "$atftpd" --daemon --no-fork --port "$ATFTPD_PORT" --bind-address 127.0.0.1 --user root.root \
    --logfile /dev/null "$W/root" & pids+=($!)
  ATFTPD_PID=$!
  sleep 0.5
}

# --- measurements ---------------------------------------------------------------------------
# The machine is shared and noisy: each server is measured $rounds times, in alternating order
# (A B, B A, A B, ...), and the median is kept, so that a burst of foreign load hits both alike.
median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(round(statistics.median(v), 2))' "$@"; }
ratio() { python3 -c 'import sys; print(round(float(sys.argv[1])/max(float(sys.argv[2]),1e-9),3))' "$1" "$2"; }
# alternate FN NAME... : runs "FN NAME" for each name, $rounds times, order reversed every round;
# sets R_<NAME> to the median and A_<NAME> to every value ("1 2 3").
alternate() {
  local fn=$1 r n v; shift
  local names=("$@")
  for n in "${names[@]}"; do eval "A_$n=''"; done
  for ((r = 0; r < rounds; r++)); do
    local order=("${names[@]}")
    if ((r % 2)); then order=(); for ((i = ${#names[@]} - 1; i >= 0; i--)); do order+=("${names[i]}"); done; fi
    for n in "${order[@]}"; do v=$("$fn" "$n"); eval "A_$n=\"\$A_$n $v\""; done
  done
  for n in "${names[@]}"; do eval "R_$n=\$(median \$A_$n)"; done
}

# CPU time (utime+stime, clock ticks) of a server's processes: nginx's master and workers,
# provisor's one process (all its loop threads). Divided by the operations of a run it gives
# the server's CPU per operation, which the noise of a shared machine disturbs far less
# than a rate does. Each rate function appends "name ops ticks" to $W/cpu.
cpu_ticks() {
  local pids p t=0
  case $1 in
  nginx) pids="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
  tftpd_hpa) pids=$HPA_PID ;; # a child per transfer; their CPU counts (cutime) only if it reaps
  # them itself: with SIGCHLD ignored the kernel does, nothing is counted and the record says null
  atftpd) pids=$ATFTPD_PID ;;
  *) pids=$PV_PID ;;
  esac
  for p in $pids; do t=$((t + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat"))); done
  echo "$t"
}
cpu_note() { echo "$1 $2 $(($4 - $3))" >>"$W/cpu"; }
# Median server CPU microseconds per operation of NAME over its runs.
cpu_us() {
  awk -v n="$1" -v hz="$(getconf CLK_TCK)" '$1 == n && $2 > 0 { print $3 * 1e6 / hz / $2 }' "$W/cpu" |
    python3 -c 'import sys,statistics; v=[float(x) for x in sys.stdin]; m=round(statistics.median(v)) if v else 0; print(m if m else "null")'
}

# Full TLS handshakes with a client certificate per second: two s_time clients in parallel (one
# per core). Their connections are serial, so at most two handshakes are in flight: a server
# whose two loops get both at once leaves a core to other work (the loop-balancing question).
s_time_rate() {
  local p total=0 n t0 t1
  case $1 in nginx) p=$NGINX_HTTPS ;; *) p=$PV_HTTPS ;; esac
  t0=$(cpu_ticks "$1")
  for i in 1 2; do
    openssl s_time -connect "127.0.0.1:$p" -new -cert "$W/pki/phone.pem" -key "$W/pki/phone.key" \
      -CAfile "$W/pki/ca.pem" -time "$seconds" -www /small.xml >"$W/stime.$i" 2>&1 &
  done
  wait
  for i in 1 2; do
    n=$(sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' "$W/stime.$i" | head -1)
    total=$((total + ${n:-0}))
  done
  t1=$(cpu_ticks "$1")
  cpu_note "$1" "$total" "$t0" "$t1"
  # s_time reports connections per run; the figure is per second, like the others.
  python3 -c 'import sys; print(round(int(sys.argv[1]) / float(sys.argv[2]), 1))' "$total" "$seconds"
}
# Requests each provisor loop has served so far ("loop1 loop2"): how evenly the shared listening
# socket spreads work (difference of two calls).
loop_counts() {
  curl -s "http://127.0.0.1:$PV_ADMIN/metrics" |
    awk -F'[" ]' '/^provisor_loop_requests_total/ {printf "%s ", $NF}'
}
loop_split() { python3 -c 'import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); print("/".join(str(int(y)-int(x)) for x, y in zip(a, b)))' "$1" "$2"; }
https_handshakes() {
  : >"$W/cpu"
  local l0; l0=$(loop_counts)
  alternate s_time_rate nginx provisor
  SPLIT=$(loop_split "$l0" "$(loop_counts)")
  record "{\"bench\":\"https_full_handshakes_client_cert\",\"seconds\":$seconds,\"rounds\":$rounds,\"provisor\":$R_provisor,\"nginx\":$R_nginx,\"ratio\":$(ratio "$R_provisor" "$R_nginx"),\"provisor_runs\":\"${A_provisor# }\",\"nginx_runs\":\"${A_nginx# }\",\"provisor_cpu_us_per_handshake\":$(cpu_us provisor),\"nginx_cpu_us_per_handshake\":$(cpu_us nginx),\"provisor_requests_per_loop\":\"$SPLIT\"}"
}

wrk_rate() {
  local p out t0 t1 n
  case $1 in nginx) p=$NGINX_HTTP ;; *) p=$PV_HTTP ;; esac
  t0=$(cpu_ticks "$1")
  out=$(wrk -t2 -c64 -d"${seconds}s" "http://127.0.0.1:$p/small.xml")
  t1=$(cpu_ticks "$1")
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  cpu_note "$1" "${n:-0}" "$t0" "$t1"
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}
http_keepalive() {
  : >"$W/cpu"
  local l0; l0=$(loop_counts)
  alternate wrk_rate nginx provisor
  SPLIT=$(loop_split "$l0" "$(loop_counts)")
  record "{\"bench\":\"http_keepalive_small_file\",\"seconds\":$seconds,\"rounds\":$rounds,\"provisor_rps\":$R_provisor,\"nginx_rps\":$R_nginx,\"ratio\":$(ratio "$R_provisor" "$R_nginx"),\"provisor_runs\":\"${A_provisor# }\",\"nginx_runs\":\"${A_nginx# }\",\"provisor_cpu_us_per_request\":$(cpu_us provisor),\"nginx_cpu_us_per_request\":$(cpu_us nginx),\"provisor_requests_per_loop\":\"$SPLIT\"}"
}

# TFTP: the same load generator against each server; transfers per second (failures are
# counted by tftp_load and are not transfers). Full JSON of every run goes to the results file.
tftp_port() { case $1 in provisor) echo "$PV_TFTP" ;; tftpd_hpa) echo "$HPA_PORT" ;; *) echo "$ATFTPD_PORT" ;; esac; }
tftp_small_rate() {
  local out t0 t1
  t0=$(cpu_ticks "$1")
  out=$("$build/tftp_load" -p "$(tftp_port "$1")" -f 4k.bin -c 200 -d "$seconds")
  t1=$(cpu_ticks "$1")
  cpu_note "$1" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["transfers"])' "$out")" "$t0" "$t1"
  echo "{\"server\":\"$1\",\"bench\":\"tftp_small\",\"run\":$out}" >>"$results"
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])["transfers_per_second"])' "$out"
}
# One 50 MB file, blksize 1428, windowsize 8 (RFC 7440): some 4 400 windows, each a round trip
# between the client and the server, so the figure is a latency. It is measured in two placements,
# the same for every server: both on CPU 0 ("same_core"), and the server on the last CPU with the
# client on CPU 0 ("across_cores"). Across cores each window wakes an idle vCPU twice, which on a
# virtual machine is an exit to the hypervisor each time: window_floor measures what is left then
# for any server (a sender that has nothing else to do), and the record carries that floor.
# Unpinned, the scheduler picks one placement or the other from run to run: that was the 1.4-3.1x
# spread of earlier runs.
tftp_pid() { case $1 in provisor) echo "$PV_PID" ;; tftpd_hpa) echo "$HPA_PID" ;; *) echo "$ATFTPD_PID" ;; esac; }
all_cpus="0-$(($(nproc) - 1))"
PLACE_SERVER=$all_cpus PLACE_CLIENT=$all_cpus
# tftp_pinned_rate NAME LABEL CONCURRENCY TRANSFERS: the 50 MB file, server and client placed
# as PLACE_SERVER / PLACE_CLIENT say; prints transfers per second.
tftp_pinned_rate() {
  local out t0 t1 pid
  pid=$(tftp_pid "$1")
  # -a: every thread; atftpd's and tftpd-hpa's later transfer threads and children inherit it.
  taskset -a -p -c "$PLACE_SERVER" "$pid" >/dev/null
  t0=$(cpu_ticks "$1")
  out=$(taskset -c "$PLACE_CLIENT" "$build/tftp_load" -p "$(tftp_port "$1")" -f 50m.bin -c "$3" -n "$4" -d 120 -b 1428 -w 8)
  t1=$(cpu_ticks "$1")
  taskset -a -p -c "$all_cpus" "$pid" >/dev/null
  cpu_note "$1" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["transfers"])' "$out")" "$t0" "$t1"
  echo "{\"server\":\"$1\",\"bench\":\"$2\",\"placement\":\"$PLACE_SERVER/$PLACE_CLIENT\",\"run\":$out}" >>"$results"
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])["transfers_per_second"])' "$out"
}
tftp_large_rate() { tftp_pinned_rate "$1" tftp_large 1 3; }
# tftp_record NAME [EXTRA_JSON_FIELDS]
tftp_record() {
  local best
  best=$(python3 -c 'import sys; print(max(float(x) for x in sys.argv[1:]))' "$R_tftpd_hpa" "$R_atftpd")
  record "{\"bench\":\"$1\",\"rounds\":$rounds,\"provisor\":$R_provisor,\"tftpd_hpa\":$R_tftpd_hpa,\"atftpd\":$R_atftpd,\"ratio_to_best\":$(ratio "$R_provisor" "$best"),\"provisor_runs\":\"${A_provisor# }\",\"tftpd_hpa_runs\":\"${A_tftpd_hpa# }\",\"atftpd_runs\":\"${A_atftpd# }\",\"cpu_us_per_transfer\":{\"provisor\":$(cpu_us provisor),\"tftpd_hpa\":$(cpu_us tftpd_hpa),\"atftpd\":$(cpu_us atftpd)}${2:+,$2}}"
}
tftp_small() {
  : >"$W/cpu"
  alternate tftp_small_rate provisor tftpd_hpa atftpd
  tftp_record tftp_200_concurrent_4k_per_second
}
tftp_large() {
  local place name floor
  for place in same_core:0:0 across_cores:$(($(nproc) - 1)):0; do
    IFS=: read -r name PLACE_SERVER PLACE_CLIENT <<<"$place"
    [ "$PLACE_SERVER" = "$PLACE_CLIENT" ] && [ "$name" = across_cores ] && continue # one CPU
    : >"$W/cpu"
    floor=$("$build/window_floor" -n 20000 -b 1428 -w 8 -s "$PLACE_SERVER" -c "$PLACE_CLIENT")
    alternate tftp_large_rate provisor tftpd_hpa atftpd
    tftp_record "tftp_one_50mb_blksize1428_window8_${name}_per_second" "\"floor\":$floor"
  done
  PLACE_SERVER=$all_cpus PLACE_CLIENT=$all_cpus
}
# Boot storm: 8 phones fetch the same 50 MB image at once, 16 transfers per run. The server
# gets the last CPU and the load generator CPU 0, as phones on other machines would leave the
# server its own cores: the rate then shows how much of a core each server needs per transfer.
tftp_storm_rate() { tftp_pinned_rate "$1" tftp_storm 8 16; }
tftp_storm() {
  : >"$W/cpu"
  PLACE_SERVER=$(($(nproc) - 1)) PLACE_CLIENT=0
  alternate tftp_storm_rate provisor tftpd_hpa atftpd
  PLACE_SERVER=$all_cpus PLACE_CLIENT=$all_cpus
  tftp_record tftp_8_concurrent_50mb_blksize1428_window8_server_on_own_core_per_second
}

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(https_handshakes http_keepalive tftp_small tftp_large tftp_storm)
start_nginx; start_provisor; start_tftpds
echo "bench: $(nproc) cores, ${seconds}s per measurement, median of $rounds alternating rounds, results in $results"
for b in "${wanted[@]}"; do "$b"; done
