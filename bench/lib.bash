# bench/lib.bash — what the benchmark scripts share (sourced; not run on its own): a work
# directory and a results file, free loopback ports, waiting for a listener, recording result
# lines, a private PostgreSQL, the fleet's phones, server certificates and `provisor serve` for
# the fleet, and nginx as the reference server. The caller sets $src (the checkout) first.

# bench_begin [KIND] — $W, a private work directory removed at exit (after every process in
# the pids array is killed and bench_on_exit runs, if the script defines one), and $results,
# bench/results/[KIND-]<UTC time>.jsonl.
bench_begin() {
  W=$(mktemp -d "/tmp/pv-${1:-bench}.XXXXXX")
  chmod 755 "$W"
  pids=()
  trap bench_cleanup EXIT
  mkdir -p "$src/bench/results"
  results="$src/bench/results/${1:+$1-}$(date -u +%Y%m%dT%H%M%SZ).jsonl"
}
bench_cleanup() {
  for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if declare -F bench_on_exit >/dev/null; then bench_on_exit; fi
  rm -rf "$W"
}

# port [tcp|udp] — a free port on 127.0.0.1.
port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "${1:-tcp}"; }
# wait_tcp PORT — until something accepts on 127.0.0.1:PORT (20 s at most).
wait_tcp() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "bench: nothing on port $1" >&2; return 1; }
# record JSON — one result line, on stdout and in $results.
record() { echo "$1" | tee -a "$results"; }
# loadavg — the 1-minute load average, for the figures beside it (a shared machine).
loadavg() { cut -d' ' -f1 /proc/loadavg; }

# bench_pg_start — a private PostgreSQL 15 in $W/pg (unix socket only, stopped at exit), sets
# PG_SOCK and PG_PORT. It runs with synchronous_commit=off: like SQLite's WAL with
# synchronous=NORMAL, a commit survives the server process dying but not a power cut, and
# nothing is ever corrupted. shared_buffers is PV_PG_SHARED_BUFFERS (default 512MB).
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
bench_pg_start() {
  mkdir "$W/pg" && chmod 777 "$W/pg"
  as_pg initdb -D "$W/pg/data" -A trust -U pv --no-locale -E UTF8 >"$W/initdb.log" 2>&1
  PG_SOCK="$W/pg" PG_PORT=$(port)
  as_pg pg_ctl -D "$W/pg/data" -l "$W/pg/log" -w -t 30 \
    -o "-k $W/pg -p $PG_PORT -c listen_addresses='' -c synchronous_commit=off -c shared_buffers=${PV_PG_SHARED_BUFFERS:-512MB}" \
    start >/dev/null
  bench_on_exit() { as_pg pg_ctl -D "$W/pg/data" -m fast stop >/dev/null 2>&1 || true; }
}
# bench_pg_db NAME — a new database on it; sets PG_DB_URL.
bench_pg_db() {
  psql -X -q -h "$PG_SOCK" -p "$PG_PORT" -U pv -d postgres -c "CREATE DATABASE $1"
  PG_DB_URL="postgresql:///$1?host=$PG_SOCK&port=$PG_PORT&user=pv"
}
# bench_fleet_phones BIN N ACCOUNT — N multiplatform phones as `provisor fleet --mix mpp` numbers
# them (MAC 00562b000000 up) imported into ACCOUNT through the CLI BIN, and their certificates
# from the data directory's demo manufacturer CA in $W/certs ($PROVISOR_DATA and the admin URL
# exported by the caller).
bench_fleet_phones() {
  python3 -c "
print('MAC,model,account')
for i in range($2): print('00562b%06x,CP-8841-3PCC,$3' % i)" >"$W/devices.csv"
  "$1" device import "$W/devices.csv" >/dev/null
  "$1" fleet certs --count "$2" --out "$W/certs" --mix mpp \
    --ca-cert "$PROVISOR_DATA/manufacturer/demo-ca.pem" \
    --ca-key "$PROVISOR_DATA/manufacturer/demo-ca.key" >/dev/null
}
# bench_db_mb URL SQLITE_FILE — the store's size in MB: the PostgreSQL database URL names (its
# dbname), or when URL is empty the SQLite file with its -wal and -shm.
bench_db_mb() {
  if [ -n "$1" ]; then
    local name=${1#postgresql:///}
    name=${name%%\?*}
    psql -X -At -h "$PG_SOCK" -p "$PG_PORT" -U pv -d "$name" -c "SELECT pg_database_size('$name') / 1048576"
  else
    du -cm "$2"* | tail -1 | cut -f1
  fi
}

# bench_server_pki CN — a server CA named CN ($W/pki/ca.pem, ca.key) and its certificate for
# 127.0.0.1 ($W/pki/server.pem, server.key), EC P-256, made by the openssl command.
bench_server_pki() {
  mkdir -p "$W/pki"
  (
    cd "$W/pki"
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -subj "/CN=$1" -days 2 -out ca.pem 2>/dev/null
    openssl ecparam -name prime256v1 -genkey -noout -out server.key 2>/dev/null
    openssl req -new -key server.key -subj /CN=127.0.0.1 -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile server.ext -out server.pem 2>/dev/null
  )
}

# bench_fleet_serve BIN NAME WORKERS WAIT_PORT LISTENERS... — `provisor serve` (BIN) on the
# fleet's static tree $W/root as the fleet benchmarks run it: the $W/pki server certificate
# (bench_server_pki), client certificates from the fleet's CA ($W/certs/ca.pem) required, up to
# 100 000 connections, log level warn into $W/NAME.out and $W/NAME.log, WORKERS loop threads,
# the listener options given (--https ..., --http ..., --tftp ...). Sets SERVE_PID (killed at
# exit) and waits until WAIT_PORT accepts.
bench_fleet_serve() {
  local bin=$1 name=$2 workers=$3 wait=$4
  shift 4
  "$bin" serve --data-dir "$W/pv-data" --root "$W/root" --workers "$workers" "$@" \
    --admin "127.0.0.1:$(port)" --portal off \
    --tls-cert "$W/pki/server.pem" --tls-key "$W/pki/server.key" --client-ca "$W/certs/ca.pem" \
    --client-cert required --limits-max-connections 100000 \
    --log-level warn >"$W/$name.out" 2>"$W/$name.log" &
  SERVE_PID=$!
  pids+=("$SERVE_PID")
  wait_tcp "$wait"
}

# nginx_start DIR ROOT HTTP_PORT HTTPS_PORT CERT KEY CLIENT_CA — nginx as every benchmark here
# configures it: 2 workers, access log on (one write per request, as provisor's log line),
# sendfile, long keep-alive; HTTPS requires a client certificate from CLIENT_CA, TLS 1.2-1.3, no
# session resumption (tickets and cache off). HTTP_PORT "-": no plain listener. Sets NGINX_PID.
nginx_start() {
  local dir=$1 root=$2 http=$3 https=$4 cert=$5 key=$6 ca=$7 plain=""
  mkdir -p "$dir/logs"
  [ "$http" = - ] || plain="server { listen 127.0.0.1:$http; root $root; }"
  cat >"$dir/nginx.conf" <<NGX
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 4096; }
http {
  access_log $dir/logs/access.log;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  default_type application/octet-stream;
  $plain
  server {
    listen 127.0.0.1:$https ssl; root $root;
    ssl_certificate $cert; ssl_certificate_key $key;
    ssl_client_certificate $ca; ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_tickets off; ssl_session_cache off;
  }
}
NGX
  nginx -c "$dir/nginx.conf" -g 'daemon off;' &
  NGINX_PID=$!
  pids+=("$NGINX_PID")
  [ "$http" = - ] || wait_tcp "$http"
  wait_tcp "$https"
}
