#!/usr/bin/env bash
# provisor fleet against the provisioning server (issue 4): a retail wave of factory-fresh
# phones with certificates from the server's demo manufacturer CA binds with the account's
# codes over HTTPS, then fetches the server-rendered encrypted profile: every phone ends in
# SEC-PRV-2, and the server's store agrees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

# 30 phones, each binding from its own 127.A.B.C, with the DEFAULT limits (binding.h).
N=30
D="$T/data"
serve_ports
serve_start serve --data-dir "$D" --workers 1
DB="$D/provisor.db"
sq() { sqlite3 -cmd ".timeout 5000" "$DB" "$@"; }
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"

expect_status 0 "$PV_BIN" fleet certs --count $N --out "$T/certs" --mix spa,mpp \
  --ca-cert "$D/manufacturer/demo-ca.pem" --ca-key "$D/manufacturer/demo-ca.key"
expect_status 0 "$PV_BIN" account create C-2001 --customer 'Fleet Test' \
  --settings '{"lines":[{"line":1,"user":"2001"}]}'
expect_status 0 "$PV_BIN" params set global Proxy_1_=sip.fleet.example
expect_status 0 "$PV_BIN" params set account:C-2001 'User_ID_1_={{lines.0.user}}' --ua ro
: >"$T/codes"
for _ in $(seq 1 $N); do
  "$PV_BIN" code create C-2001 --expires 1h --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])' >>"$T/codes"
done
expect_eq "$(grep -cE '^[0-9]{12}$' "$T/codes")" $N "codes from provisor code create"

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
