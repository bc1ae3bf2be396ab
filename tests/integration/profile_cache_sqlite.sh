#!/usr/bin/env bash
# The profile cache on SQLite (server/prov_cache.h; docs/provisioning.md "The profile cache"):
# an unchanged phone is answered from the loops' caches, and every change an operator makes
# with the CLI — parameters at every layer, account settings, a key rotation, an upgrade plan,
# a rollout admitting the phone and its abort, a release — is in the very next resync.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/profile_cache.bash"

D="$T/data"
serve_ports
serve_start run --data-dir "$D" --workers 2 --provisioning-rollout-interval-ms 300
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
export PROVISOR_TOKEN=$(grep -A1 '^Admin token' "$T/run.out" | tail -1 | tr -d ' ')
H="http://127.0.0.1:$HTTP_PORT"
pc_bind "https://127.0.0.1:$HTTPS_PORT"
pc_changes "$H" "$ADMIN_PORT" "$H"
serve_stop
done_ok
