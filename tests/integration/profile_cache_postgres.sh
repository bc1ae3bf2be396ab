#!/usr/bin/env bash
# The profile cache on PostgreSQL with two nodes (server/prov_cache.h; docs/provisioning.md
# "The profile cache"): the changes of profile_cache_sqlite.sh, made through node A's admin
# API, are in node A's very next resync and in node B's within its check interval (B learns
# them from the store's change log, schema step 7, never from A).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/pg_helpers.bash"
. "$(dirname "$0")/profile_cache.bash"

pg_start
D="$T/data"
export PROVISOR_DATA="$D"
node_start() { # NAME: sets <NAME>_HTTP, _HTTPS, _ADMIN
  serve_ports
  serve_start "$1" --data-dir "$D" --db "$PG_URL" --tftp off --workers 2 \
    --provisioning-rollout-interval-ms 300 --provisioning-cache-check-ms 200
  eval "${1}_HTTP=$HTTP_PORT ${1}_HTTPS=$HTTPS_PORT ${1}_ADMIN=$ADMIN_PORT"
}
node_start A
export PROVISOR_TOKEN=$(grep -A1 '^Admin token' "$T/A.out" | tail -1 | tr -d ' ')
[ -n "$PROVISOR_TOKEN" ] || fail "no admin token in $(cat "$T/A.out")"; ok
node_start B
export PROVISOR_ADMIN_URL="http://127.0.0.1:$A_ADMIN"
pc_bind "https://127.0.0.1:$A_HTTPS"
pc_changes "http://127.0.0.1:$A_HTTP" "$A_ADMIN" "http://127.0.0.1:$B_HTTP"
done_ok
