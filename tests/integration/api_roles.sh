#!/usr/bin/env bash
# Scoped access (issue 13 item 2): every route of docs/openapi.yaml called with an
# admin, operator, viewer and customer token — 403 with the error code "role"
# exactly where the document's x-provisor-role / x-provisor-customer say so —
# and the rules handlers add: an operator deletes no account with devices, an
# admin only with force, and the audit entry keeps what went.
# Covers src/server/roles.c, tokens.c, api.c (authorize), api_accounts.c (tokens,
# account delete) and src/cli/cmd_account.c (token create --role, account delete --force).
# Also covers src/server/api_users.c and src/cli/cmd_user.c (operator logins with a role).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"

export PROVISOR_DATA="$T/data"
api_start roles
P=$PV_BIN
export PROVISOR_TOKEN=$TOKEN

expect_status 0 "$P" account create acme
expect_status 0 "$P" account create other
expect_status 0 "$P" device create 000e08000001 --account acme
declare -A TOK
for role in operator viewer; do
  expect_status 0 "$P" token create "t-$role" --role "$role" --json
  TOK[$role]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/.out")
done
expect_status 0 "$P" token create t-customer --role customer --account acme --json
TOK[customer]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$T/.out")
TOK[admin]=$TOKEN
expect_status 1 "$P" token create t-bad --role root
expect_contains "$(cat "$T/.err")" "role 'root': want admin, operator, viewer or customer" "unknown role"
expect_status 1 "$P" token create t-cust --role customer
expect_contains "$(cat "$T/.err")" "a customer token needs its account" "customer without account"
"$P" token list >"$T/tokens.txt"
expect_contains "$(cat "$T/tokens.txt")" "ROLE" "token list shows roles"
expect_eq "$(awk '$1 == "t-customer" {print $2, $3}' "$T/tokens.txt")" "customer acme" "customer row"

# --- the table: each operation of the document with each role
python3 - "$PV_SRC/docs/openapi.yaml" >"$T/routes" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for path, ops in doc["paths"].items():
    for method, op in ops.items():
        if method == "parameters":
            continue
        print(method.upper(), path, op["x-provisor-role"], str(op.get("x-provisor-customer", False)).lower())
PY
expect_eq "$(wc -l <"$T/routes")" "$(grep -c '^      x-provisor-role:' "$PV_SRC/docs/openapi.yaml")" "every operation listed"
rank() { case $1 in viewer) echo 1 ;; operator) echo 2 ;; admin) echo 3 ;; *) echo 0 ;; esac; }
# Path parameters name things whose change harms nothing the table needs later: the
# customer's own account (which keeps its device, so deleting it is refused), and
# otherwise names that do not exist.
concrete() {
  local p=$1
  case $p in /tokens/*) p=${p//\{name\}/no-such-token} ;; esac
  p=${p//\{name\}/acme}
  p=${p//\{login\}/no-such-login}
  p=${p//\{mac\}/000e08999999}
  p=${p//\{scope\}/device:000e08999999}
  p=${p//\{model\}/No-Such-Model}
  p=${p//\{file\}/roles-test.bin}
  p=${p//\{id\}/999999}
  p=${p//\{job\}/999999}
  echo "$p"
}
checked=0
while read -r method path need customer; do
  url=$(concrete "$path")
  for role in customer viewer operator admin; do
    if [ "$role" = customer ]; then allowed=$customer
    elif [ "$(rank "$role")" -ge "$(rank "$need")" ]; then allowed=true
    else allowed=false; fi
    if [ "$method" = GET ] || [ "$method" = DELETE ]; then
      CALL_TOKEN=${TOK[$role]} call "$method" "$url"
    else
      CALL_TOKEN=${TOK[$role]} call "$method" "$url" '{}'
    fi
    denied=false
    if [ "$STATUS" = 403 ] && [[ "$BODY" == *'"code":"role"'* ]]; then denied=true; fi
    if [ "$allowed" = true ]; then
      [ "$denied" = false ] || fail "$role: $method $url refused by role: $BODY"
    else
      [ "$denied" = true ] || fail "$role: $method $url answered $STATUS, want 403 role: $BODY"
      expect_contains "$BODY" "needs the role $need" "refusal names the role"
    fi
    ok
    checked=$((checked + 1))
  done
done <"$T/routes"
[ "$checked" -ge 180 ] || fail "only $checked calls"

# --- a customer reaches its own account only
CALL_TOKEN=${TOK[customer]} expect_call 200 GET /accounts/acme
CALL_TOKEN=${TOK[customer]} expect_call 403 GET /accounts/other
expect_contains "$BODY" "only its own account" "customer confined"
CALL_TOKEN=${TOK[customer]} expect_call 201 POST /accounts/acme/codes '{}'
# a viewer reads, never writes
CALL_TOKEN=${TOK[viewer]} expect_call 200 GET /devices/000e08000001
CALL_TOKEN=${TOK[viewer]} expect_call 403 PATCH /devices/000e08000001 '{"serial":"X"}'

# --- deleting an account with devices
PROVISOR_TOKEN=${TOK[operator]} expect_status 1 "$P" account delete acme --force
expect_contains "$(cat "$T/.err")" "only an admin deletes an account with devices" "operator refused"
expect_status 1 "$P" account delete acme
expect_contains "$(cat "$T/.err")" "has 1 devices assigned (first: 000e08000001)" "admin without --force"
expect_contains "$(cat "$T/.err")" "(HTTP 409)" "409"
expect_status 0 "$P" params set account:acme Station_Name=Desk
expect_status 0 "$P" account show acme
expect_status 0 "$P" account delete acme --force
expect_eq "$("$P" device show 000e08000001 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["account"])')" None "device left unassigned"
call GET "/audit?limit=1000"
expect_eq "$(jq_py '[(d["devices"], d["params"]["Station_Name"]["value"], d["account"]["name"]) for d in [a["detail"] for a in j["items"] if a["action"] == "account.delete"]][0]')" \
  "(['000e08000001'], 'Desk', 'acme')" "audit keeps what was deleted"
# --- operator logins share the portal's login table and argon2id passwords
expect_status 0 sh -c "printf '%s\n' 'desk password 1' | '$P' user create desk@example.net --role operator --password-stdin"
expect_contains "$(cat "$T/.out")" "operator" "user create shows the role"
expect_status 1 sh -c "printf '%s\n' 'desk password 2' | '$P' user create cust@example.net --role customer --password-stdin"
expect_contains "$(cat "$T/.err")" "provisor customer" "customer logins are made elsewhere"
expect_status 2 "$P" user create nobody@example.net --password-stdin
expect_contains "$(cat "$T/.err")" "provisor: user create: --role admin|operator|viewer is required" "role required"
expect_eq "$("$P" user list | awk 'NR>1 {print $1, $2}')" "desk@example.net operator" "user list"
expect_contains "$(sqlite3 "$PROVISOR_DATA/provisor.db" "SELECT role, password_hash FROM logins WHERE name = 'desk@example.net'")" \
  'operator|$argon2id$v=19$' "argon2id in the shared login table"
PROVISOR_TOKEN=${TOK[operator]} expect_status 1 "$P" user list
expect_contains "$(cat "$T/.err")" "GET /users needs the role admin; this token is operator" "users are an admin's"
expect_status 0 "$P" user delete desk@example.net
# an operator deletes an account without devices
PROVISOR_TOKEN=${TOK[operator]} expect_status 0 "$P" account delete other
done_ok
