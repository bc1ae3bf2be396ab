# pg_helpers.bash — sourced by tests that need a real PostgreSQL 15 after lib.sh: a
# private server started here (initdb in $T, a unix socket in $T only, no TCP),
# stopped on exit. (Not a .sh file, so CTest does not run it as a test of its own.)

# as_pg CMD... — runs CMD as the postgres user when root (initdb refuses root).
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# pg_start — initdb and start; sets PGPORT, PG_SOCK, PG_URL (database provisor, created).
pg_start() {
  local tool
  for tool in initdb pg_ctl psql; do
    command -v $tool >/dev/null ||
      fail "$tool not found: PostgreSQL 15 is needed (apt-get install postgresql; scripts/deps.sh)"
  done
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || fail "no postgres user: apt-get install postgresql"
  fi
  mkdir "$T/pg" && chmod 711 "$T" && chmod 777 "$T/pg"
  # C collation: text sorts byte-wise as in SQLite (docs/store.md).
  as_pg initdb -D "$T/pg/data" -A trust -U pv --no-locale -E UTF8 >"$T/initdb.log" 2>&1 ||
    fail "initdb failed: $(tail -5 "$T/initdb.log")"
  PGPORT=$(free_port tcp)
  PG_SOCK="$T/pg"
  PV_CLEANUP+=("as_pg pg_ctl -D '$T/pg/data' -m immediate stop >/dev/null 2>&1")
  pg_ctl_do start || fail "PostgreSQL did not start: $(tail -5 "$T/pg/log")"
  psql_do "CREATE DATABASE provisor"
  PG_URL="postgresql:///provisor?host=$T/pg&port=$PGPORT&user=pv"
}

# pg_ctl_do ACTION [ARGS...] — pg_ctl start|stop|restart on the private server, waiting (-w).
pg_ctl_do() {
  local action=$1
  shift
  as_pg pg_ctl -D "$T/pg/data" -l "$T/pg/log" -w -t 30 "$@" \
    -o "-k $T/pg -p $PGPORT -c listen_addresses='' -c fsync=off" "$action" >/dev/null
}

# psql_do SQL [DATABASE] — runs SQL, stopping at the first error.
psql_do() { psql -X -q -h "$T/pg" -p "$PGPORT" -U pv -d "${2:-postgres}" -v ON_ERROR_STOP=1 -c "$1"; }

# psql_val SQL — one value from the provisor database.
psql_val() { psql -X -At -h "$T/pg" -p "$PGPORT" -U pv -d provisor -c "$1"; }
