#!/usr/bin/env bash
# The PostgreSQL store backend against a real PostgreSQL 15 started here
# (initdb in $T, a unix socket in $T only, no TCP): the store's unit tests
# run on it (PV_TEST_PG), and so do the render's; `provisor db migrate|check|backup` with URLs and
# keyword strings, two migrations racing on one empty database; then two
# `provisor serve` nodes sharing the database: an account and a device
# created through one node's admin API, the phone's profile fetched from the
# other node (mTLS SEC-PRV-1, then the encrypted full profile over HTTP),
# then PostgreSQL restarts under both nodes (pg_ctl restart -m fast) and both
# go on serving profiles and writing without a restart of their own;
# and kill -9 of the first node leaves the second serving and writing.
# Covers src/store/postgres.c and the db URL of cmd_db.c and serve.
# ctest: run-serial
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"
. "$(dirname "$0")/pg_helpers.bash"

: "${PV_BUILD:?PV_BUILD must name the build directory (the unit test binaries)}"

# --- a private PostgreSQL (pg_helpers.bash): as root it runs as the postgres user.
pg_start
psql_do "CREATE DATABASE race" && psql_do "CREATE DATABASE units"
ok
URL="postgresql:///provisor?host=$T/pg&port=$PGPORT&user=pv"
KW="host=$T/pg port=$PGPORT user=pv dbname=provisor"

# --- the store's unit tests, every one of them on PostgreSQL, and the render's (one statement
# per render: one round trip, counted by the backend).
for t in test_store test_store_entities test_store_search test_secrets test_store_logins test_websession test_rollout test_import_job \
  test_render test_keys; do
  [ -x "$PV_BUILD/$t" ] || fail "$PV_BUILD/$t not built"
  PV_TEST_PG="host=$T/pg port=$PGPORT user=pv dbname=units" "$PV_BUILD/$t" >"$T/$t.out" 2>&1 ||
    fail "$t on PostgreSQL: $(grep -E 'FAILED|Failure|error' "$T/$t.out" | head -20)"
  expect_contains "$(cat "$T/$t.out")" "[  PASSED  ]" "$t passes on PostgreSQL"
done
expect_contains "$(cat "$T/test_store.out")" "import (postgres)" "the import ran on PostgreSQL"

# --- provisor db with a URL: migrate (idempotent), check, backup refused.
# the steps this binary knows (`db schema` prints one header per step)
STEPS=$("$PV_BIN" db schema | grep -c '^-- schema step')
expect_status 0 "$PV_BIN" db migrate --db "$URL"
expect_contains "$(cat "$T/.out")" "applied $STEPS schema step(s); schema version $STEPS" "first migrate"
expect_status 0 "$PV_BIN" db migrate --db "$URL"
expect_contains "$(cat "$T/.out")" "applied 0 schema step(s); schema version $STEPS" "re-run is a no-op"
expect_status 0 "$PV_BIN" db check --db "$KW"
out=$(cat "$T/.out")
expect_contains "$out" "(postgres)" "check names the backend"
expect_contains "$out" "integrity: ok" "check passes"
expect_eq "$(awk '$1 == "accounts" {print $2}' <<<"$out")" "0" "account count"
expect_eq "$(psql -X -At -h "$T/pg" -p "$PGPORT" -U pv -d provisor -c \
  'SELECT max(version) FROM schema_version')" "$STEPS" "schema_version rows seen by psql"
# A password in the URL is not printed (trust auth ignores it).
expect_status 0 "$PV_BIN" db check --db "postgres://pv:hunter2@/provisor?host=$T/pg&port=$PGPORT"
[[ "$(cat "$T/.out" "$T/.err")" != *hunter2* ]] || fail "password printed"; ok
expect_status 1 "$PV_BIN" db backup --db "$URL" "$T/b.dump"
expect_contains "$(cat "$T/.err")" "pg_dump" "backup points at pg_dump"
[ ! -e "$T/b.dump" ] || fail "backup wrote a file"; ok
# No such database, no such server: exit 1 with PostgreSQL's reason.
expect_status 1 "$PV_BIN" db check --db "postgresql:///nosuch?host=$T/pg&port=$PGPORT&user=pv"
expect_contains "$(cat "$T/.err")" '"nosuch" does not exist' "missing database explained"
expect_status 1 "$PV_BIN" db migrate --db "postgresql://pv@127.0.0.1:1/x?connect_timeout=3"
expect_contains "$(cat "$T/.err")" "cannot connect to PostgreSQL" "no server explained"

# Two nodes migrating one empty database at once: each step applied once.
RACE="postgresql:///race?host=$T/pg&port=$PGPORT&user=pv"
"$PV_BIN" db migrate --db "$RACE" >"$T/m1" 2>&1 &
m1=$!
"$PV_BIN" db migrate --db "$RACE" >"$T/m2" 2>&1 &
m2=$!
wait $m1 || fail "racing migrate 1: $(cat "$T/m1")"
wait $m2 || fail "racing migrate 2: $(cat "$T/m2")"
expect_eq "$(cat "$T/m1" "$T/m2" | sed -n 's/.*applied \([0-9]*\) schema step.*/\1/p' |
  awk '{ n += $1 } END { print n }')" "$STEPS" "each step applied once between the two"
expect_eq "$(psql -X -At -h "$T/pg" -p "$PGPORT" -U pv -d race -c \
  'SELECT count(*) FROM schema_version')" "$STEPS" "schema_version has one row per step"

# --- two serve nodes on one database (and one data directory: same CA, token, master key).
D="$T/data"
node_start() { # NAME: sets <NAME>_HTTP, _HTTPS, _ADMIN, _PID
  serve_ports
  serve_start "$1" --data-dir "$D" --db "$URL" --tftp off --workers 2
  eval "${1}_HTTP=$HTTP_PORT ${1}_HTTPS=$HTTPS_PORT ${1}_ADMIN=$ADMIN_PORT ${1}_PID=$SERVE_PID"
}
node_start A
TOKEN=$(grep -A1 '^Admin token' "$T/A.out" | tail -1 | tr -d ' ')
[ -n "$TOKEN" ] || fail "no admin token in $(cat "$T/A.out")"; ok
node_start B
[ ! -e "$D/provisor.db" ] || fail "a node made an SQLite file although --db names PostgreSQL"; ok

API="http://127.0.0.1:$A_ADMIN/api/v1"
expect_call 201 POST /accounts '{"name":"acme","customer":"Acme Inc"}'
expect_call 200 PATCH /params/account:acme '{"entries":{"Proxy_1_":{"value":"sip.acme.example"},"User_ID_1_":{"value":"1001","ua":"ro"}}}'
expect_call 201 POST /devices '{"mac":"000e08aaaaaa","model":"SPA504G"}'
expect_call 200 POST /devices/000e08aaaaaa/assign '{"account":"acme"}'
expect_call 200 PUT /devices/000e08aaaaaa/state '{"state":"SP-CUST"}'

# The phone (a certificate from the demo manufacturer CA) talks to node B only.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ph.key" \
  -subj "/ST=000e08aaaaaa/L=SN1/OU=SPA504G/CN=SEP000e08aaaaaa" -out "$T/ph.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$T/ext"
openssl x509 -req -in "$T/ph.csr" -CA "$D/manufacturer/demo-ca.pem" -CAkey "$D/manufacturer/demo-ca.key" \
  -CAcreateserial -days 1 -extfile "$T/ext" -out "$T/ph.pem" 2>/dev/null
code=$(curl -sS --cacert "$D/tls/ca.pem" --cert "$T/ph.pem" --key "$T/ph.key" -o "$T/prv1.xml" \
  -w '%{http_code}' "https://127.0.0.1:$B_HTTPS/000e08aaaaaa.xml")
expect_eq "$code" 200 "SEC-PRV-1 from node B"
key=$(sed -n 's:.*<GPP_SA ua="na">\([0-9a-f]*\)</GPP_SA>.*:\1:p' "$T/prv1.xml")
dir=$(sed -n 's:.*<GPP_B ua="na">\([A-Za-z0-9_-]*\)</GPP_B>.*:\1:p' "$T/prv1.xml")
[ -n "$key" ] && [ -n "$dir" ] || fail "no GPP_SA/GPP_B in $(cat "$T/prv1.xml")"; ok
code=$(curl -sS -o "$T/p.cfg" -w '%{http_code}' "http://127.0.0.1:$B_HTTP/$dir/000e08aaaaaa.cfg")
expect_eq "$code" 200 "full profile from node B"
"$PV_BIN" decrypt --key "$key" "$T/p.cfg" "$T/p.xml" || fail "profile does not decrypt"
expect_contains "$(cat "$T/p.xml")" "<Proxy_1_>sip.acme.example</Proxy_1_>" "account parameter served by B"
expect_contains "$(cat "$T/p.xml")" '<User_ID_1_ ua="ro">1001</User_ID_1_>' "account parameter with ua"
# What B wrote (state, key confirmed) node A reads from the same database.
expect_call 200 GET /devices/000e08aaaaaa
expect_eq "$(jq_py 'j["state"]')" SEC-PRV-2 "state moved by node B, seen by node A"

# PostgreSQL restarts under both nodes (-m fast: every connection is cut).
# Each store handle (one per loop, one for the admin API) finds its
# connection lost on its next statement, reconnects and runs the statement
# again: profile fetches and admin calls work at once on both nodes, without
# restarting them, and no request fails (docs/store.md "Lost connections").
pg_ctl_do restart -m fast || fail "PostgreSQL did not restart: $(tail -5 "$T/pg/log")"
ok
for node in A B; do
  eval "http=\$${node}_HTTP admin=\$${node}_ADMIN"
  for i in 1 2 3 4; do # --workers 2: requests reach both loops' handles
    code=$(curl -sS -o "$T/r.cfg" -w '%{http_code}' "http://127.0.0.1:$http/$dir/000e08aaaaaa.cfg")
    expect_eq "$code" 200 "profile $i from node $node after the PostgreSQL restart"
  done
  "$PV_BIN" decrypt --key "$key" "$T/r.cfg" "$T/r.xml" || fail "profile from $node does not decrypt"
  expect_contains "$(cat "$T/r.xml")" "<Proxy_1_>sip.acme.example</Proxy_1_>" "node $node renders from the database"
  API="http://127.0.0.1:$admin/api/v1"
  expect_call 201 POST /accounts "{\"name\":\"after-$node\",\"customer\":\"Restart $node\"}"
  expect_call 200 GET /accounts/after-$node
done
API="http://127.0.0.1:$A_ADMIN/api/v1"

# kill -9 node A: node B keeps serving and writing.
kill -9 "$A_PID"
wait "$A_PID" 2>/dev/null || true
code=$(curl -sS -o "$T/p2.cfg" -w '%{http_code}' "http://127.0.0.1:$B_HTTP/$dir/000e08aaaaaa.cfg")
expect_eq "$code" 200 "node B serves after node A died"
"$PV_BIN" decrypt --key "$key" "$T/p2.cfg" "$T/p2.xml" || fail "profile from B does not decrypt"
expect_contains "$(cat "$T/p2.xml")" "<Proxy_1_>sip.acme.example</Proxy_1_>" "same parameter after kill -9"
API="http://127.0.0.1:$B_ADMIN/api/v1"
expect_call 201 POST /accounts '{"name":"beta","customer":"Beta"}'
expect_call 200 GET /accounts
expect_eq "$(jq_py '[a["name"] for a in j["items"]]')" "['acme', 'after-A', 'after-B', 'beta']" \
  "all accounts via node B"
expect_status 0 "$PV_BIN" db check --db "$URL"
expect_eq "$(awk '$1 == "accounts" {print $2}' "$T/.out")" "4" "check counts what the nodes wrote"
SERVE_PID=$B_PID
serve_stop
done_ok
