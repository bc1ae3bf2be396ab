#!/usr/bin/env bash
# The device search by last seen on PostgreSQL (device_seen.bash), and what schema step 9 is
# for: a resync on the day of the device's last one rewrites no index entry — PostgreSQL
# counts the second wave's last-seen updates as HOT updates (docs/store.md "Last seen").
# Covers src/store/store_device_search.c on PostgreSQL and step 9's trigger there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"
. "$(dirname "$0")/pg_helpers.bash"
. "$(dirname "$0")/device_seen.bash"

pg_start
day0=$(($(date +%s) / 86400))
ds_flow --db "$PG_URL"
expect_eq "$(psql_val "SELECT COUNT(*) FROM devices WHERE seen_day <> COALESCE(last_seen / 86400, -1)")" \
  0 "seen_day is the day of last_seen"
if [ "$(($(date +%s) / 86400))" = "$day0" ]; then # both waves on one day (not across midnight)
  hot() { [ "$(psql_val "SELECT pg_stat_force_next_flush(); SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'devices'" | tail -1)" -gt 0 ]; }
  wait_for 10 "HOT updates of devices counted" hot
  ok
fi
done_ok
