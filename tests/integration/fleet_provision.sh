#!/usr/bin/env bash
# provisor fleet against the provisioning server (issue 4): a retail wave of factory-fresh
# phones with certificates from the server's demo manufacturer CA binds with the account's
# codes over HTTPS, then fetches the server-rendered encrypted profile: every phone ends in
# SEC-PRV-2, and the server's store agrees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

# 30 phones, more than the 20 bindings the server allows per source address per 10 minutes
# (binding.h): each simulated phone binds from its own 127.A.B.C, with the DEFAULT limits.
N=30
D="$T/data"
serve_ports
serve_start serve --data-dir "$D" --workers 1
DB="$D/provisor.db"
sq() { sqlite3 -cmd ".timeout 5000" "$DB" "$@"; }
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
now=$(date +%s)

expect_status 0 "$PV_BIN" fleet certs --count $N --out "$T/certs" --mix spa,mpp \
  --ca-cert "$D/manufacturer/demo-ca.pem" --ca-key "$D/manufacturer/demo-ca.key"
sql="INSERT INTO accounts (id, name, customer, settings, created_at, updated_at) VALUES
  (1, 'C-2001', 'Fleet Test', '{\"line1\":{\"user_id\":\"2001\"}}', $now, $now);
INSERT INTO param_sets (id, scope, updated_at) VALUES (1, 'global', $now), (2, 'account:1', $now);
INSERT INTO param_entries (set_id, name, value, ua) VALUES
  (1, 'Proxy_1_', 'sip.fleet.example', NULL), (2, 'User_ID_1_', '{{line1.user_id}}', 'ro');"
: >"$T/codes"
for i in $(seq 1 $N); do
  code=$(printf 'F%02dQ%07d' "$i" "$((i * 7919))") # distinct hints (first two characters)
  echo "$code" >>"$T/codes"
  sql="$sql
INSERT INTO binding_codes (account_id, code_hash, hint, created_at, expires_at, max_attempts)
  VALUES (1, '$(hash "$code")', '${code:0:2}', $now, $((now + 3600)), 5);"
done
sq "$sql"

expect_status 0 "$PV_BIN" fleet run --scenario retail --phones $N --mix spa,mpp \
  --server "https://127.0.0.1:$HTTPS_PORT" --ca "$D/tls/ca.pem" --certs "$T/certs" \
  --codes "$T/codes" --wave 3 --duration 120 --report "$T/report"
expect_contains "$(cat "$T/.out")" "goal (bound and in SEC-PRV-2): $N/$N phones" "every phone bound"
expect_contains "$(cat "$T/.out")" "SEC-PRV-2 $N" "phones in SEC-PRV-2"
expect_contains "$(cat "$T/.out")" "failures by cause: none" "no failure"
expect_eq "$(sq "SELECT count(*) FROM devices WHERE account_id = 1 AND state = 'SEC-PRV-2'")" \
  "$N" "the server's store agrees"
expect_eq "$(sq "SELECT count(*) FROM devices WHERE model = 'SPA504G'")" "15" "SPA phones by certificate"
# a code file shorter than the fleet is refused before anything is sent
head -3 "$T/codes" >"$T/short"
expect_status 1 "$PV_BIN" fleet run --scenario retail --phones $N \
  --server "https://127.0.0.1:$HTTPS_PORT" --codes "$T/short"
expect_contains "$(cat "$T/.err")" "3 codes for $N phones" "short code file"
serve_stop
done_ok
