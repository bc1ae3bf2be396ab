#!/usr/bin/env bash
# The admin API with curl (issue 4, "Admin API"): bearer tokens (401, 403
# revoked, named tokens), CRUD of every resource, strict validation naming
# the field, pagination across pages, an audit entry for every change.
# Covers src/server/api_accounts.c, api_devices.c, api_params.c, api_firmware.c, api_util.c and
# audit_query.c (the /audit filters).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"

export PROVISOR_DATA="$T/data"
api_start crud

# --- authentication
code=$(curl -s -o "$T/body" -w '%{http_code}' "$API/accounts")
expect_eq "$code" 401 "no token"
expect_contains "$(cat "$T/body")" '"code":"unauthorized"' "401 body"
CALL_TOKEN=pv_wrong expect_call 401 GET /accounts
expect_call 200 GET /accounts
expect_eq "$BODY" '{"items":[],"next":null}' "empty list"
expect_call 201 POST /tokens '{"name":"ops"}'
OPS=$(jq_py 'j["token"]')
CALL_TOKEN=$OPS expect_call 201 POST /accounts '{"name":"acme","customer":"Acme Inc","settings":{"lines":[{"line":1,"user":"1001","password":"s3cret"}],"hunt_group":{"number":"200","members":["1001"],"policy":"ring-all"},"speed_dials":[{"key":2,"name":"desk","number":"1002"}],"user_features":["Call_Forward"]}}'
expect_eq "$(jq_py 'j["settings"]["hunt_group"]["number"]')" 200 "settings kept"
expect_call 409 POST /tokens '{"name":"ops"}'
expect_call 204 DELETE /tokens/ops
CALL_TOKEN=$OPS expect_call 403 GET /accounts
expect_contains "$BODY" "revoked" "revoked token"
expect_call 200 GET /tokens
expect_eq "$(jq_py '[t["name"] for t in j["items"] if t["revoked_at"] > 0]')" "['ops']" "token list"

# --- validation: which field and why
expect_call 422 POST /devices '{"mac":"00:0e:08:ab:cd:e"}'
expect_eq "$BODY" '{"error":{"code":"invalid","field":"mac","message":"MAC address needs 12 hex digits, found 11"}}' "MAC error"
expect_call 400 POST /devices '{"mac":"000e08abcdef","colour":"red"}'
expect_eq "$(jq_py 'j["error"]["field"]')" colour "unknown field named"
expect_contains "$BODY" "allowed: mac, serial" "unknown field lists the allowed ones"
expect_call 400 POST /devices '{"mac":12}'
expect_contains "$BODY" '"field":"mac","message":"mac must be a string, got an integer"' "type error"
expect_call 400 POST /accounts '{"name":"x","settings":{"lines":[{"line":1}]}}'
expect_eq "$(jq_py 'j["error"]["field"]')" "settings.lines[0].user" "nested required field"
expect_call 422 POST /accounts '{"name":"x","settings":{"speed_dials":[{"key":2,"number":"1"},{"key":2,"number":"2"}]}}'
expect_eq "$(jq_py 'j["error"]["field"]')" "settings.speed_dials[1]" "duplicate speed dial"
expect_call 400 POST /accounts '{"name":"x",'
expect_contains "$BODY" '"code":"invalid_json"' "bad JSON"
expect_call 400 POST /accounts '{"name":"a","name":"b"}'
expect_contains "$BODY" "duplicate" "duplicate keys refused"
expect_call 404 GET /nothing
expect_call 405 DELETE /accounts

# --- accounts
expect_call 200 GET /accounts/acme
expect_call 200 PATCH /accounts/acme '{"settings":{"user_features":["Do_Not_Disturb"]}}'
expect_eq "$(jq_py 'j["settings"]["user_features"]')" "['Do_Not_Disturb']" "patch replaced one key"
expect_eq "$(jq_py 'j["settings"]["hunt_group"]["policy"]')" ring-all "patch kept the others"
expect_call 409 PUT /accounts/acme '{"customer":"Acme","version":1}'
expect_eq "$(jq_py 'j["error"]["code"]')" conflict "stale version"
expect_call 200 PUT /accounts/acme '{"customer":"Acme Corp"}'
expect_eq "$(jq_py 'j["settings"]')" "{}" "put replaced the settings"
expect_call 409 POST /accounts '{"name":"acme"}'
expect_eq "$(jq_py 'j["error"]["field"]')" name "duplicate account"

# --- pagination across pages
for i in $(seq -w 1 24); do
  expect_call 201 POST /accounts "{\"name\":\"cust$i\"}"
done
names=""; after=""; pages=0
while :; do
  expect_call 200 GET "/accounts?limit=10${after:+&after=$after}"
  names="$names $(jq_py '" ".join(a["name"] for a in j["items"])')"
  pages=$((pages + 1))
  after=$(jq_py 'j["next"] or ""')
  [ -n "$after" ] || break
done
expect_eq "$pages" 3 "25 accounts in pages of 10"
expect_eq "$(echo $names | wc -w)" 25 "every account once"
expect_call 400 GET "/accounts?limit=0"
expect_eq "$(jq_py 'j["error"]["field"]')" limit "limit validated"

# --- devices
expect_call 201 POST /devices '{"mac":"00-0E-08-AB-CD-EF","model":"CP-8841-3PCC","account":"acme","serial":"FCH123"}'
expect_eq "$(jq_py 'j["mac"]')" 000e08abcdef "MAC normalised"
expect_call 409 POST /devices '{"mac":"000e08abcdef"}'
expect_call 422 POST /devices '{"mac":"000e08abcd00","account":"nobody"}'
expect_eq "$(jq_py 'j["error"]["field"]')" account "unknown account"
expect_call 200 PATCH /devices/000e08abcdef '{"require_cert":true,"cert_fingerprint":"'"$(printf 'ab%.0s' $(seq 32))"'"}'
expect_eq "$(jq_py 'j["require_cert"]')" True "require_cert"
expect_eq "$(jq_py 'j["model"]')" CP-8841-3PCC "patch kept the model"
expect_call 200 POST /devices/000e08abcdef/assign '{"account":"cust01"}'
expect_eq "$(jq_py 'j["account"]')" cust01 "assigned"
expect_call 200 PUT /devices/000e08abcdef/state '{"state":"SP-CUST"}'
expect_eq "$(jq_py 'j["state"]')" SP-CUST "state"
expect_call 409 PUT /devices/000e08abcdef/state '{"state":"SEC-PRV-2","from":"MFG-RESET"}'
expect_call 422 PUT /devices/000e08abcdef/state '{"state":"BOGUS"}'
expect_call 404 GET /devices/000e08abcdef/report
expect_call 200 GET "/devices?account=cust01"
expect_eq "$(jq_py 'len(j["items"])')" 1 "devices of an account"
expect_call 200 PUT /devices/000e08abcdef '{"model":"SPA504G"}'
expect_eq "$(jq_py '(j["model"], j["serial"], j["account"])')" "('SPA504G', None, None)" "put replaced"
expect_call 200 GET /status
expect_eq "$(jq_py 'j["by_state"]["MFG-RESET"], j["by_model"]["SPA504G"]')" "(1, 1)" "fleet status"

# --- binding codes: returned once, listed without the code
expect_call 201 POST /accounts/acme/codes '{"expires_in":3600,"max_attempts":3}'
CODE=$(jq_py 'j["code"]'); CODE_ID=$(jq_py 'j["id"]')
[[ "$CODE" =~ ^[0-9]{12}$ ]] || fail "code: $CODE"; ok
expect_call 200 GET /accounts/acme/codes
expect_eq "$(jq_py 'j["items"][0]["hint"], j["items"][0]["state"]')" "('${CODE:0:2}', 'unused')" "code listed by hint"
grep -q "$CODE" "$T/body" && fail "the code itself is listed"; ok
expect_call 422 POST /accounts/acme/codes '{"expires_in":5}'
expect_call 204 DELETE "/codes/$CODE_ID"
expect_call 404 DELETE "/codes/$CODE_ID"

# --- parameter sets
expect_call 200 PUT /params/global '{"entries":{"Resync_Periodic":{"value":"3600","ua":"ro"},"Station_Name":{"value":"{{mac_upper}}"}}}'
expect_eq "$(jq_py 'j["entries"]["Resync_Periodic"]')" "{'value': '3600', 'ua': 'ro'}" "put entries"
expect_call 200 PATCH /params/account:acme '{"entries":{"Display_Name_1_":{"value":"Desk","ua":"rw"}}}'
expect_contains "$(jq_py 'j["scope"]')" "account:" "account scope by name"
expect_call 200 PATCH /params/global '{"entries":{"Station_Name":null}}'
expect_eq "$(jq_py 'sorted(j["entries"])')" "['Resync_Periodic']" "patch null deletes"
expect_call 422 PATCH /params/global '{"entries":{"X":{"value":"1","ua":"xx"}}}'
expect_eq "$(jq_py 'j["error"]["field"]')" entries.X "bad ua"
expect_call 422 GET /params/bogus
expect_call 200 GET /params
expect_eq "$(jq_py 'len(j["items"])')" 2 "two sets"
expect_call 204 DELETE /params/global
expect_call 404 GET /params/global

# --- firmware: upload, register (hash from the file), plans
head -c 100000 /dev/urandom >"$T/sip88xx.bin"
code=$(curl -sS -o "$T/body" -w '%{http_code}' -X PUT -H "Authorization: Bearer $TOKEN" \
  --data-binary @"$T/sip88xx.bin" "$API/firmware/files/sip88xx.12-0-1.bin")
expect_eq "$code" 201 "upload"
same_file "$T/sip88xx.bin" "$PROVISOR_DATA/firmware/sip88xx.12-0-1.bin" "uploaded bytes"
expect_call 201 POST /firmware '{"model":"CP-8841-3PCC","version":"12.0.1","file_name":"sip88xx.12-0-1.bin"}'
expect_eq "$(jq_py 'j["sha256"], j["size"], j["kind"]')" "('$(sha256sum "$T/sip88xx.bin" | cut -d' ' -f1)', 100000, 'bin')" "hash from the file"
FW=$(jq_py 'j["id"]')
expect_call 409 POST /firmware '{"model":"CP-8841-3PCC","version":"12.0.1","file_name":"sip88xx.12-0-1.bin"}'
expect_call 422 POST /firmware '{"model":"M","version":"1","file_name":"absent.loads"}'
expect_eq "$(jq_py 'j["error"]["field"]')" file_name "missing file"
expect_call 201 POST /firmware '{"model":"M","version":"1","file_name":"later.loads","sha256":"'"$(printf '0%.0s' $(seq 64))"'","size":5,"files":["a.sbn"]}'
expect_eq "$(jq_py 'j["kind"], j["files"]')" "('loads', ['a.sbn'])" "loads manifest"
expect_call 200 GET "/firmware/$FW"
expect_call 200 GET "/firmware?model=M"
expect_eq "$(jq_py 'len(j["items"])')" 1 "firmware by model"
# a plan is checked when written: a step to a version without an image would fail every render
expect_call 422 PUT /plans/CP-8841-3PCC '{"target_version":"12.0.1","stages":[["11.3.1","11.3.7"],["11.3.7","12.0.1"]]}'
expect_eq "$(jq_py 'j["error"]["field"]')" target_version "plan without an image refused"
expect_contains "$(jq_py 'j["error"]["message"]')" "no registered image of version 11.3.7 (register one first" "says which and how"
expect_call 404 GET /plans/CP-8841-3PCC
expect_call 200 PUT /plans/CP-8841-3PCC '{"target_version":"12.0.1","stages":[["11.3.1","12.0.1"]]}'
expect_eq "$(jq_py 'j["stages"][0]')" "['11.3.1', '12.0.1']" "plan stages"
expect_call 400 PUT /plans/CP-8841-3PCC '{"target_version":"1","stages":[["a"]]}'
expect_eq "$(jq_py 'j["error"]["field"]')" stages "bad stage"
expect_call 200 GET /plans
# An image the plan installs is not deleted from under it (every CP-8841 would fail to render).
expect_call 409 DELETE "/firmware/$FW"
expect_contains "$BODY" "the plan for CP-8841-3PCC installs 12.0.1" "the 409 names the plan"
expect_call 200 GET "/firmware/$FW"
expect_call 204 DELETE /plans/CP-8841-3PCC
expect_call 204 DELETE "/firmware/$FW"

# --- reports (phones upload them; here the store is empty) and deletes
expect_call 200 GET /reports
expect_call 404 GET /reports/1
expect_call 204 DELETE /devices/000e08abcdef
expect_call 404 GET /devices/000e08abcdef
expect_call 204 DELETE /accounts/cust24

# --- audit: every change, by which token, filterable
expect_call 200 GET "/audit?limit=1000"
expect_eq "$(jq_py '[a["action"] for a in j["items"] if a["actor"] == "token:ops"]')" "['account.create']" "change by the ops token"
for action in token.create token.revoke account.patch account.update device.create device.patch \
  device.assign device.state device.update device.delete code.create code.revoke params.replace \
  params.patch params.delete firmware.upload firmware.create plan.put plan.delete \
  firmware.delete account.delete; do
  expect_contains "$(jq_py '" ".join(a["action"] for a in j["items"])')" "$action" "audit of $action"
done
expect_call 200 "GET" "/audit?device=00:0e:08:ab:cd:ef"
expect_eq "$(jq_py '[a["action"] for a in j["items"]]')" \
  "['device.create', 'device.patch', 'device.assign', 'device.state', 'device.update', 'device.delete']" "audit by device"
expect_call 200 GET "/audit?actor=ops"
expect_eq "$(jq_py 'len(j["items"])')" 1 "audit by actor"
expect_call 200 GET "/audit?device=00:0e:08:ab:cd:ef&action=device.state"
expect_eq "$(jq_py '[a["action"] for a in j["items"]]')" "['device.state']" "audit by device and action"
expect_call 200 GET "/audit?action=plan.&limit=1000"
expect_eq "$(jq_py '[a["action"] for a in j["items"]]')" "['plan.put', 'plan.delete']" "audit by a family of actions"
expect_call 200 GET "/audit?since=$(( $(date +%s) + 3600 ))"
expect_eq "$(jq_py 'len(j["items"])')" 0 "audit by time"
expect_call 200 GET "/audit?limit=5"
expect_eq "$(jq_py 'len(j["items"]), j["next"] is not None')" "(5, True)" "audit pages"

# --- control characters: refused on write, the field named (one U+0001 made every render fail)
expect_call 422 PATCH /params/global '{"entries":{"Station_Name":{"value":"desk\u0001"}}}'
expect_eq "$(jq_py 'j["error"]["field"]')" "entries.Station_Name.value" "field named"
expect_contains "$BODY" "byte 5 is a control character (U+0001)" "byte named"
expect_call 422 POST /accounts '{"name":"ctl","settings":{"lines":[{"user":"10\u001b"}]}}'
expect_eq "$(jq_py 'j["error"]["field"]')" "settings.lines[0].user" "nested field named"
expect_call 422 POST /devices '{"mac":"000e08abcd99","model":"CP\u007f"}'
expect_eq "$(jq_py 'j["error"]["field"]')" "model" "device field named"
expect_call 404 GET /devices/000e08abcd99
expect_call 404 GET /params/global # the refused PATCH created no set

serve_stop
done_ok
