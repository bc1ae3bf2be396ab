#!/usr/bin/env bash
# Secrets at rest (issue 11): the data directory is 0700 (an existing looser one is narrowed),
# provisor.db, -wal and -shm are 0600 (also a --db outside it, also an existing 0644 file),
# and SIP passwords in parameter sets are sealed under master.key: the raw SQLite file holds
# no plaintext password while rendering, the API and the CLI still show it. Rows written
# while no master key existed (--provisioning no) are sealed by the next start.
# Passwords in an account's settings JSON are sealed the same way, and the audit of a change
# records "(secret)" for them.
# Covers src/store/store_param_secrets.c, src/store/sqlite.c, src/server/datadir.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
export PROVISOR_DATA="$D"
serve_ports
export PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"

# An existing data directory a user made world-readable, and no master key yet: the secret
# parameter written now is stored as given (nothing to seal it with) ...
mkdir -m 755 "$D"
serve_start plain --provisioning no
expect_eq "$(stat -c %a "$D")" 700 "an existing 0755 data directory is made 0700"
admin_token=$(grep -A1 '^Admin token' "$T/plain.out" | tail -1 | tr -d ' ')
expect_status 0 "$PV_BIN" params set global 'Password_2_=0ld-s3cret' 'Proxy_1_=sip.example.net'
expect_status 0 "$PV_BIN" account create legacy \
  --settings '{"lines":[{"line":1,"user":"2009","password":"l3gacy-pw"}]}'
[ ! -e "$D/master.key" ] || fail "master.key without provisioning"; ok
expect_eq "$(sqlite3 "$D/provisor.db" 'PRAGMA wal_checkpoint(TRUNCATE);' .dump | grep -c 0ld-s3cret)" 1 \
  "without a master key the value is stored as given"
serve_stop
chmod 644 "$D/provisor.db"

# ... and the first start with a master key seals it (the migration), narrowing the 0644 file.
serve_start sealed
expect_eq "$(stat -c %a "$D/provisor.db")" 600 "an existing 0644 provisor.db is made 0600"
expect_status 0 "$PV_BIN" account create acme --settings \
  '{"lines":[{"line":1,"user":"1001","password":"s3tt1ngs-pw"}],"speed_dials":[{"key":1,"name":"Desk","number":"2001"}]}'
expect_status 0 "$PV_BIN" params set account:acme 'Password_1_=s3cret' 'User_ID_1_=1001' \
  'Admin_Passwd=adm1n-pw' 'Password_3_={{lines.0.password}}'
printf 'MAC,model,account\n000e08abcdef,CP-8841-3PCC,acme\n' >"$T/devices.csv"
expect_status 0 "$PV_BIN" device import "$T/devices.csv"
# while the server runs: the -wal and -shm SQLite made have the database's mode
for f in provisor.db provisor.db-wal provisor.db-shm master.key; do
  [ -e "$D/$f" ] || fail "$f missing"
  expect_eq "$(stat -c %a "$D/$f")" 600 "mode of $f"
done
# rendering, the API and the CLI see the values as set
expect_status 0 "$PV_BIN" device render 000e08abcdef --plain
expect_contains "$(cat "$T/.out")" "<Password_1_>s3cret</Password_1_>" "render opens the sealed value"
expect_contains "$(cat "$T/.out")" "<Password_2_>0ld-s3cret</Password_2_>" "the migrated value renders"
expect_contains "$(cat "$T/.out")" "<Admin_Passwd>adm1n-pw</Admin_Passwd>" "Admin_Passwd"
expect_contains "$(cat "$T/.out")" "<Password_3_>s3tt1ngs-pw</Password_3_>" \
  "a password in the account's settings renders"
expect_status 0 "$PV_BIN" account show acme --json
expect_contains "$(cat "$T/.out")" '"password": "s3tt1ngs-pw"' "the API shows the settings as set"
expect_contains "$(cat "$T/.out")" '"number": "2001"' "the rest of the settings as set"
expect_status 0 "$PV_BIN" account show legacy --json
expect_contains "$(cat "$T/.out")" '"password": "l3gacy-pw"' "the migrated settings as set"
expect_contains "$(sqlite3 "$D/provisor.db" "SELECT detail FROM audit_log WHERE action = 'account.create' AND subject = 'acme'")" \
  '"password":"(secret)"' "the audit of account.create keeps no password"
expect_status 0 "$PV_BIN" params show account:acme
expect_contains "$(cat "$T/.out")" "s3cret" "params show shows the value"
expect_status 0 "$PV_BIN" params show global --json
expect_contains "$(cat "$T/.out")" '"0ld-s3cret"' "the API answers the migrated value"
# the raw files: no plaintext password, neither in the rows nor in the audit of the change
for pw in s3cret 0ld-s3cret adm1n-pw s3tt1ngs-pw l3gacy-pw; do
  expect_eq "$(sqlite3 "$D/provisor.db" .dump | grep -c -- "$pw")" 0 "$pw not in the .dump"
  expect_eq "$(cat "$D"/provisor.db* | strings | grep -c -- "$pw")" 0 "$pw not in the files"
done
expect_contains "$(sqlite3 "$D/provisor.db" "SELECT value FROM param_entries WHERE name = 'Password_1_'")" \
  "sealed:" "stored sealed"
expect_eq "$(sqlite3 "$D/provisor.db" "SELECT value FROM param_entries WHERE name = 'User_ID_1_'")" \
  1001 "other parameters stay readable"
expect_contains "$(sqlite3 "$D/provisor.db" "SELECT settings FROM accounts WHERE name = 'acme'")" \
  '"password":"sealed:' "a settings password stored sealed"
expect_contains "$(sqlite3 "$D/provisor.db" "SELECT settings FROM accounts WHERE name = 'acme'")" \
  '"number":"2001"' "the rest of the settings stays readable"
serve_stop

# The same database without its master key: refused with the reason, not garbage.
mv "$D/master.key" "$T/master.key.moved"
"$PV_BIN" serve --tftp "127.0.0.1:$TFTP_PORT" --http "127.0.0.1:$HTTP_PORT" \
  --https "127.0.0.1:$HTTPS_PORT" --admin "127.0.0.1:$ADMIN_PORT" --portal off >"$T/nokey.out" 2>"$T/nokey.log" &
SERVE_PID=$!
PV_CLEANUP+=("kill -9 $SERVE_PID 2>/dev/null")
wait "$SERVE_PID" && fail "started with another master key"
SERVE_PID=
expect_contains "$(cat "$T/nokey.log")" "master key" "a wrong master key is named"
mv "$T/master.key.moved" "$D/master.key"

# A --db outside the data directory gets the same modes.
mkdir -m 755 "$T/elsewhere"
serve_start outside --db "$T/elsewhere/p.db"
# (the CLI's own token lives in the other store: the first run's admin token instead)
expect_status 0 "$PV_BIN" params set global 'SIP_Password=s3cret-2' --token "$admin_token"
for f in p.db p.db-wal p.db-shm; do
  expect_eq "$(stat -c %a "$T/elsewhere/$f")" 600 "mode of --db $f"
done
expect_eq "$(cat "$T"/elsewhere/p.db* | strings | grep -c s3cret-2)" 0 "--db: sealed too"
serve_stop
done_ok
