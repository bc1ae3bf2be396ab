#!/usr/bin/env bash
# The device search by last seen on SQLite, through the admin API and the CLI (device_seen.bash).
# Covers src/store/store_device_search.c (last seen), schema step 9 in src/store/migrations.c,
# src/server/api_devices.c (GET /devices filters) and src/cli/cmd_device.c (device list).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"
. "$(dirname "$0")/device_seen.bash"

ds_flow
# the day of each device's last fetch, kept by the store's trigger (step 9), is the one indexed
expect_eq "$(sqlite3 -cmd '.timeout 5000' "$D/provisor.db" \
  "SELECT COUNT(*) FROM devices WHERE seen_day <> COALESCE(last_seen / 86400, -1)")" 0 \
  "seen_day is the day of last_seen"
expect_contains "$(sqlite3 -cmd '.timeout 5000' "$D/provisor.db" \
  "EXPLAIN QUERY PLAN SELECT mac FROM devices INDEXED BY devices_seen WHERE seen_day BETWEEN 1 AND 2")" \
  "devices_seen" "the index exists"
done_ok
