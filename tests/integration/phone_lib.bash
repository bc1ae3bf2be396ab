# phone_lib.bash — sourced by tests/integration/phone_*.sh after lib.sh: a test
# PKI, nginx and atftpd on loopback serving static files, and `provisor phone`
# runs with a virtual clock. (Not a .sh file, so CTest does not run it.)

ATFTPD=${PV_BENCH_TOOLS:-/var/cache/provisor-bench}/usr/sbin/atftpd
chmod 755 "$T" # nginx workers and atftpd read the served trees

# need TOOL... — skips the test (exit 0 with a note) when a peer is not installed.
need() {
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || [ -x "$t" ] || {
      fail "$t is not installed: run 'bash scripts/deps.sh' (make test does)"
    }
  done
}

# wait_until SECONDS DESCRIPTION COMMAND... — wait_for (lib.sh: a deadline of PV_WAIT_FACTOR
# times SECONDS) counted as a check.
wait_until() {
  wait_for "$@"
  ok
}

# pki DIR — server CA + server certificate for 127.0.0.1/localhost, a manufacturer CA and
# a phone certificate with the spec 4.4 subject for MAC 000e08aabbcc.
pki() {
  local d=$1
  mkdir -p "$d"
  (
    cd "$d"
    K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'
    openssl req -x509 $K -keyout ca.key -out ca.pem -days 2 -subj /CN=phone-test-server-ca
    openssl req $K -keyout server.key -out server.csr -subj /CN=localhost
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile server.ext -out server.pem
    openssl req -x509 $K -keyout mfg.key -out mfg.pem -days 2 -subj "/CN=Test Manufacturing CA"
    openssl req $K -keyout phone.key -out phone.csr \
      -subj "/ST=000e08aabbcc/L=FCH08AABBCC/OU=CP-8841-3PCC/CN=SEP000E08AABBCC"
    printf 'extendedKeyUsage=clientAuth\n' >phone.ext
    openssl x509 -req -in phone.csr -CA mfg.pem -CAkey mfg.key -CAcreateserial -days 2 \
      -extfile phone.ext -out phone.pem
  ) >/dev/null 2>&1 || fail "test PKI"
}

# nginx_start — HTTP on NGINX_HTTP (root $T/www, /auth/ behind Basic user:pass) and HTTPS
# with a required client certificate on NGINX_HTTPS (root $T/secure).
nginx_start() {
  NGINX_HTTP=$(free_port tcp)
  NGINX_HTTPS=$(free_port tcp)
  mkdir -p "$T/nginx/logs" "$T/www" "$T/secure"
  printf 'user:%s\n' "$(openssl passwd -apr1 pass)" >"$T/nginx/htpasswd"
  cat >"$T/nginx/nginx.conf" <<NGX
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 64; }
http {
  access_log $T/nginx/logs/access.log;
  default_type application/octet-stream;
  types { text/xml xml; }
  server {
    listen 127.0.0.1:$NGINX_HTTP; root $T/www;
    location /auth/ { auth_basic phones; auth_basic_user_file $T/nginx/htpasswd; }
  }
  server {
    listen 127.0.0.1:$NGINX_HTTPS ssl; root $T/secure;
    ssl_certificate $T/pki/server.pem; ssl_certificate_key $T/pki/server.key;
    ssl_client_certificate $T/pki/mfg.pem; ssl_verify_client on;
  }
}
NGX
  nginx_up
}

nginx_up() {
  nginx -c "$T/nginx/nginx.conf" -g 'daemon off;' 2>>"$T/nginx/logs/stderr" &
  NGINX_PID=$!
  PV_CLEANUP+=("kill $NGINX_PID 2>/dev/null")
  wait_until 10 "nginx listening" bash -c "exec 3<>/dev/tcp/127.0.0.1/$NGINX_HTTP"
}

nginx_stop() {
  kill "$NGINX_PID"
  wait "$NGINX_PID" 2>/dev/null || true
}

# atftpd_start ROOT — TFTP on ATFTPD_PORT.
atftpd_start() {
  ATFTPD_PORT=$(free_port udp)
  "$ATFTPD" --daemon --no-fork --port "$ATFTPD_PORT" --bind-address 127.0.0.1 \
    --user "$(id -un).$(id -gn)" --logfile /dev/null "$1" &
  PV_CLEANUP+=("kill $! 2>/dev/null")
  wait_until 10 "atftpd bound to 127.0.0.1:$ATFTPD_PORT" udp_bound "$ATFTPD_PORT"
}

# kamailio_start — the provider's registrar and proxy (tests/kamailio/registrar.cfg) on
# K_PORT; its log, $T/kamailio.log, says "registered AOR" per REGISTER and "relay ..." per
# request it routes to a contact.
kamailio_start() {
  K_PORT=$(free_port udp)
  local mpath
  mpath=$(dirname "$(find /usr/lib -path '*kamailio/modules/tm.so' 2>/dev/null | head -1)")
  [ "$mpath" != . ] || fail "kamailio modules not found"
  mkdir -p "$T/kamailio"
  sed -e "s/@PORT@/$K_PORT/" -e "s|@MPATH@|$mpath/|" "$PV_SRC/tests/kamailio/registrar.cfg" \
    >"$T/kamailio/k.cfg"
  kamailio -f "$T/kamailio/k.cfg" -DD -E -Y "$T/kamailio" -P "$T/kamailio/k.pid" -m 64 -M 8 \
    >"$T/kamailio.log" 2>&1 &
  PV_CLEANUP+=("kill $! 2>/dev/null")
  wait_until 10 "kamailio listening" udp_bound "$K_PORT"
}

# udp_bound PORT — something listens on UDP 127.0.0.1:PORT.
udp_bound() { [ -n "$(ss -Hlun "src 127.0.0.1:$1")" ]; }

# phone_start NAME ARGS... — `provisor phone` with state in $T/NAME, a web server on a free
# port and a virtual clock; sets PHONE (its web address) and PHONE_PID; log in $T/NAME.log.
phone_start() {
  local name=$1
  shift
  rm -f "$T/$name/web"
  "$PV_BIN" phone --state-dir "$T/$name" --web 127.0.0.1:0 --clock virtual "$@" \
    >"$T/$name.out" 2>>"$T/$name.log" &
  PHONE_PID=$!
  PV_CLEANUP+=("kill -9 $PHONE_PID 2>/dev/null")
  wait_until 10 "phone $name up (log: $(tail -c 500 "$T/$name.log" 2>/dev/null))" \
    test -s "$T/$name/web"
  PHONE=$(cat "$T/$name/web")
}

phone_stop() {
  kill "$PHONE_PID"
  wait "$PHONE_PID" 2>/dev/null || true
}

# web PATH [CURL ARGS...] — the phone's answer body.
web() {
  local p=$1
  shift
  curl -sS --max-time 60 "$@" "http://$PHONE$p"
}

# code PATH [CURL ARGS...] — the phone's HTTP status for PATH.
code() {
  local p=$1
  shift
  curl -sS --max-time 60 -o /dev/null -w '%{http_code}' "$@" "http://$PHONE$p"
}

# field NAME [CURL ARGS...] — a value of status.xml; param NAME — a value of cfg.xml.
field() {
  local n=$1
  shift
  web /admin/status.xml "$@" | sed -n "s|.*<$n[^>]*>\(.*\)</$n>.*|\1|p"
}
param() {
  local n=$1
  shift
  web /admin/cfg.xml "$@" | sed -n "s|.*<$n[^>]*>\(.*\)</$n>.*|\1|p"
}
field_is() { [ "$(field "$1")" = "$2" ]; }
param_is() { [ "$(param "$1")" = "$2" ]; }

# advance SECONDS — moves the phone's virtual clock forward.
advance() { web "/admin/clock?advance=$1" >/dev/null; }

# PV_KEEP=DIR keeps a copy of the test's files (logs, state) for a person to read.
if [ -n "${PV_KEEP:-}" ]; then
  PV_CLEANUP+=("rm -rf '$PV_KEEP'; cp -r '$T' '$PV_KEEP'")
fi
