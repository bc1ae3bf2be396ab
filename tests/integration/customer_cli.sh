#!/usr/bin/env bash
# Customer logins of the portal (issue 10 item 3) through the command line and
# the admin API: `provisor customer create|list|show|reset-password|delete`
# with the password on standard input, the same routes with curl, what the
# store keeps (an argon2id string read back with sqlite3, never the
# password), the audit trail without it, and the login going with its account.
# Covers src/cli/cmd_customer.c, src/server/api_customers.c, src/server/password.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"

export PROVISOR_DATA="$T/data"
api_start customers
P=$PV_BIN
DB="$PROVISOR_DATA/provisor.db"
"$P" account create acme >/dev/null
"$P" account create beta >/dev/null

expect_status 0 sh -c "printf '%s\n' 'correct horse battery' | '$P' customer create acme alice@acme.example --password-stdin"
expect_contains "$(cat "$T/.out")" "alice@acme.example" "create shows the login"
# The password never on the command line; too short; a taken name; no such account.
expect_status 2 "$P" customer create acme bob
expect_contains "$(cat "$T/.err")" "--password-stdin is required" "no password flag"
expect_status 1 sh -c "echo short | '$P' customer create acme bob --password-stdin"
expect_contains "$(cat "$T/.err")" "at least 8 characters" "short password refused"
expect_status 1 sh -c "echo 'another password' | '$P' customer create beta alice@acme.example --password-stdin"
expect_contains "$(cat "$T/.err")" "taken" "login names are unique over accounts"
expect_status 1 sh -c "echo 'another password' | '$P' customer create nosuch carol --password-stdin"
expect_status 0 sh -c "echo 'beta password 1' | '$P' customer create beta bob@beta.example --password-stdin"

out=$("$P" customer list)
expect_eq "$(echo "$out" | head -1 | tr -s ' ')" "LOGIN ACCOUNT LAST_LOGIN FAILED LOCKED" "table header"
expect_eq "$(echo "$out" | awk 'NR>1 {print $1"/"$2}' | tr '\n' ' ')" "alice@acme.example/acme bob@beta.example/beta " "both logins"
expect_eq "$("$P" customer list beta | awk 'NR>1 {print $1}')" "bob@beta.example" "one account's logins"
expect_status 0 "$P" customer show alice@acme.example --json
expect_eq "$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["account"], j["role"], "password" in str(j))' <"$T/.out")" "acme customer False" "show: account and role, no hash"

# What the store keeps: an argon2id string with the documented parameters, never the password.
hash=$(sqlite3 "$DB" "SELECT password_hash FROM logins WHERE name = 'alice@acme.example'")
expect_contains "$hash" '$argon2id$v=19$m=19456,t=2,p=1$' "argon2id with the documented parameters"
if sqlite3 "$DB" .dump | grep -q 'correct horse'; then fail "the password is in the database"; fi; ok
if sqlite3 "$DB" "SELECT detail FROM audit_log" | grep -q 'correct horse'; then fail "audit holds the password"; fi; ok
expect_eq "$(sqlite3 "$DB" "SELECT action FROM audit_log WHERE subject = 'login:alice@acme.example'")" "customer.create" "audited"

# The admin API directly: strict bodies, reset, delete.
expect_call 400 POST /accounts/acme/customers '{"login":"x1","password":"longenough","role":"admin"}'
expect_call 422 POST /accounts/acme/customers '{"login":"has space","password":"longenough"}'
expect_contains "$BODY" '"field":"login"' "field named"
expect_call 201 POST /accounts/acme/customers '{"login":"carol","password":"carol password"}'
expect_eq "$(jq_py 'j["account"], j["locked"]')" "('acme', False)" "created over the API"
expect_call 200 GET "/customers?account=acme"
expect_eq "$(jq_py '[c["login"] for c in j["items"]]')" "['alice@acme.example', 'carol']" "?account="
expect_call 204 PUT /customers/carol/password '{"password":"a new password"}'
expect_call 422 PUT /customers/carol/password '{"password":"tiny"}'
expect_call 404 PUT /customers/nobody/password '{"password":"a new password"}'
before=$hash
expect_status 0 sh -c "echo 'a better password' | '$P' customer reset-password alice@acme.example --password-stdin"
expect_contains "$(cat "$T/.out")" "sessions ended" "reset says what it did"
hash=$(sqlite3 "$DB" "SELECT password_hash FROM logins WHERE name = 'alice@acme.example'")
[ "$hash" != "$before" ] || fail "reset-password kept the hash"; ok
expect_status 0 "$P" customer delete carol
expect_call 404 GET /customers/carol

# The account goes, its logins with it.
expect_status 0 "$P" account delete beta
expect_eq "$("$P" customer list --json | python3 -c 'import json,sys; print([c["login"] for c in json.load(sys.stdin)])')" "['alice@acme.example']" "logins go with their account"
done_ok
