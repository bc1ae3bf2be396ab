#!/usr/bin/env bash
# bench/search.sh — the console's device search and dashboard counts at 1 000 000 devices, both
# stores, against the same store without schema step 8 (issue 13 item 1).
#
#   bench/search.sh BUILD [N]          # N devices (default 1 000 000)
#   PV_SEARCH_STORES="sqlite postgres" # the stores (these are the defaults)
#
# For each store: a fresh store seeded through the store API by `search_store seed`
# (bench/search_store.c: 1 000 accounts, one holding half the devices, four common models and a
# rare one, 97 % SEC-PRV-2, three firmware versions one of them rare), then `search_store
# measure` (median of 7 of each search and of the dashboard's three counts) twice: with step 8's
# indexes and kept counts ("step8"), then with the indexes and triggers dropped ("before": the
# searches as before step 8, the reference, same data, same run; its dashboard figure is the
# three GROUP BY over the devices the dashboard ran before step 8, group_by_counts_ms, through
# sqlite3/psql).
# The seeding time with and without step 8's triggers is the write cost of the kept counts
# (SQLite: a second store seeded with the triggers dropped).
# Last seen (schema step 9): the searches by last seen are among the measured ones ("before":
# the seen_day index dropped, the MAC order read); `search_store touch` times 100 000 fetches'
# last-seen updates with step 9's trigger and index and again without them (PostgreSQL: with
# the table's update and HOT-update counts before and after, updates_before/updates_after).
# `search_store check` times the write checks against every device: a global parameter and a
# change of C-big's settings (500 000 devices), with a render per device as the reference.
# PV_SEARCH_PLAIN=0 skips the second SQLite seeding.
#
# Output: bench/results/search-<time>.jsonl.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
n=${2:-1000000}
stores=${PV_SEARCH_STORES-sqlite postgres}
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/bench/lib.bash"
bench_begin search

# What step 8 added, removed again: the store as it searched and counted before it.
drop_sqlite="DROP INDEX devices_state; DROP INDEX devices_model; DROP INDEX devices_firmware;
  DROP TRIGGER devices_counted_insert; DROP TRIGGER devices_counted_delete;
  DROP TRIGGER devices_counted_update;"
drop_pg="DROP INDEX devices_state; DROP INDEX devices_model; DROP INDEX devices_firmware;
  DROP TRIGGER devices_counted ON devices; DROP TRIGGER devices_counted_update ON devices;"
# What step 9 added (the seen_day index and its trigger; the column stays, unused).
drop9_sqlite="DROP INDEX devices_seen; DROP TRIGGER devices_seen_day; DROP TRIGGER devices_seen_day_insert;"
drop9_pg="DROP INDEX devices_seen; DROP TRIGGER devices_seen_day ON devices;"
# The counts as the dashboard took them before step 8: a GROUP BY over the devices per chart.
group_by="SELECT state, COUNT(*) FROM devices GROUP BY state ORDER BY 2 DESC, 1 LIMIT 12;
  SELECT COALESCE(model, ''), COUNT(*) FROM devices GROUP BY model ORDER BY 2 DESC, 1 LIMIT 12;
  SELECT COALESCE(firmware_version, ''), COUNT(*) FROM devices GROUP BY firmware_version
  ORDER BY 2 DESC, 1 LIMIT 12;"
# median_ms CMD... — the median wall time of 5 runs of CMD, in milliseconds.
median_ms() {
  local t=()
  for _ in 1 2 3 4 5; do
    local a b
    a=$(date +%s%N); "$@" >/dev/null; b=$(date +%s%N)
    t+=($(((b - a) / 1000000)))
  done
  printf '%s\n' "${t[@]}" | sort -n | sed -n 3p
}

for store in $stores; do
  if [ "$store" = postgres ]; then
    [ -n "${PG_SOCK:-}" ] || bench_pg_start
    bench_pg_db search
    url=$PG_DB_URL
    sql() { psql -X -q -h "$PG_SOCK" -p "$PG_PORT" -U pv -d search -c "$1"; }
  else
    url="$W/search.db"
    sql() { sqlite3 "$url" "$1"; }
  fi
  record "$("$build/search_store" seed "$url" "$n" | sed "s/}\$/,\"loadavg\":$(loadavg)}/")"
  if [ "$store" = postgres ]; then sql "VACUUM ANALYZE"; fi
  record "$("$build/search_store" measure "$url" step8)"
  # the write checks against every device (issue 13), and what a render per device would cost
  record "$("$build/search_store" check "$url" | sed "s/}\$/,\"loadavg\":$(loadavg)}/")"
  # the hot path's last-seen update with step 9's trigger and index, then without them
  if [ "$store" = postgres ]; then
    hot() { psql -X -At -h "$PG_SOCK" -p "$PG_PORT" -U pv -d search -c \
      "SELECT n_tup_upd || ',' || n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'devices'"; }
    h0=$(hot)
    t=$("$build/search_store" touch "$url" step9)
    h1=$(hot)
    record "${t%\}},\"updates_before\":\"$h0\",\"updates_after\":\"$h1\"}"
  else
    record "$("$build/search_store" touch "$url" step9)"
  fi
  if [ "$store" = postgres ]; then sql "$drop9_pg"; else sql "$drop9_sqlite"; fi
  record "$("$build/search_store" touch "$url" without_step9)"
  if [ "$store" = postgres ]; then sql "$drop_pg"; else sql "$drop_sqlite"; fi
  before=$("$build/search_store" measure "$url" before)
  # its dashboard figure is the GROUP BY's (the kept counts are still there, unmaintained)
  before=$(sed 's/"dashboard_counts_ms":[0-9.]*,//' <<<"$before")
  record "${before%\}},\"group_by_counts_ms\":$(median_ms sql "$group_by")}"
  if [ "$store" = sqlite ] && [ "${PV_SEARCH_PLAIN:-1}" = 1 ]; then # the write cost of the triggers: the same seeding without them
    "$build/provisor" db migrate --db "$W/plain.db" >/dev/null
    sqlite3 "$W/plain.db" "DROP TRIGGER devices_counted_insert; DROP TRIGGER devices_counted_delete;
      DROP TRIGGER devices_counted_update;"
    record "$("$build/search_store" seed "$W/plain.db" "$n" | sed 's/seed"/seed_without_triggers"/')"
    rm -f "$W"/*.db "$W"/*.db-wal "$W"/*.db-shm
  fi
done
echo "results: $results"
