#!/usr/bin/env bash
# The command line over the admin API: tables for people, --json for scripts
# (parsed with python3), the local token, errors; and `provisor dhcp-snippet`
# checked by dnsmasq --test and kea-dhcp4 -t when they are installed.
# Covers src/cli/cli_api.c, cmd_account.c, cmd_device.c, cmd_params.c, cmd_firmware.c, cmd_dhcp.c and src/net/http_client.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"

export PROVISOR_DATA="$T/data"
api_start cli
P=$PV_BIN
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# No token given: the CLI mints its own in the local store (DATA/cli-token, 0600).
expect_status 0 "$P" account create acme --customer "Acme Inc" \
  --settings '{"speed_dials":[{"key":2,"number":"1002"}]}'
expect_eq "$(stat -c %a "$PROVISOR_DATA/cli-token")" 600 "cli-token mode"
expect_contains "$(cat "$T/.out")" "customer:    Acme Inc" "show after create"
"$P" account create beta-corp >/dev/null
out=$("$P" account list)
expect_eq "$(echo "$out" | head -1 | tr -s ' ')" "NAME CUSTOMER VERSION UPDATED" "table header"
expect_eq "$(echo "$out" | awk 'NR==3 {print $1, $2}')" "beta-corp -" "aligned rows, null as -"
# columns line up: CUSTOMER starts at the same offset on every line
expect_eq "$(echo "$out" | awk 'NR==1 {a=index($0,"VERSION")} NR==2 {b=index($0,"1 ")} END {print a==b}')" 1 "aligned columns"
expect_eq "$("$P" account list --json | py 'sorted(a["name"] for a in j)')" "['acme', 'beta-corp']" "--json list"
expect_eq "$("$P" account show acme --json | py 'j["settings"]["speed_dials"][0]["number"]')" 1002 "--json show"
"$P" account update acme --settings '{"user_features":["Call_Forward"]}' --json >"$T/a.json"
expect_eq "$(py 'sorted(j["settings"])' <"$T/a.json")" "['speed_dials', 'user_features']" "update merges"

# devices
expect_status 0 "$P" device create 00:0e:08:ab:cd:ef --model CP-8841-3PCC --account acme
expect_status 1 "$P" device create 00:0e:08:ab:cd:e
expect_contains "$(cat "$T/.err")" "MAC address needs 12 hex digits, found 11 [field mac] (HTTP 422)" "API error shown"
expect_status 0 "$P" device assign 000e08abcdef beta-corp
expect_status 0 "$P" device state 000e08abcdef SP-CUST
expect_eq "$("$P" device show 000e08abcdef --json | py 'j["account"], j["state"]')" "beta-corp SP-CUST" "assign and state"
expect_eq "$("$P" device list --account beta-corp | awk 'NR==2 {print $1, $2, $4}')" "000e08abcdef CP-8841-3PCC SP-CUST" "device table"
expect_eq "$("$P" device status --json | py 'j["by_model"]')" "{'CP-8841-3PCC': 1}" "fleet status"
# render: what the phone would receive, placeholders filled from the account
"$P" params set account:beta-corp 'Station_Name={{account.name}}' >/dev/null
expect_eq "$("$P" device render 000e08abcdef --plain | grep Station_Name | tr -d ' ')" \
  "<Station_Name>beta-corp</Station_Name>" "render --plain"
# a value the renderer cannot fill is refused when written, with the reason (issue 13)
expect_status 1 "$P" params set global 'Broken={{no_such_field}}'
expect_contains "$(cat "$T/.err")" "Broken: unknown placeholder {{no_such_field}}" "refusal names the parameter"
expect_contains "$(cat "$T/.err")" "(HTTP 422)" "refused as 422"
expect_status 0 "$P" device render 000e08abcdef --plain
expect_status 1 "$P" device report 000e08abcdef
expect_contains "$(cat "$T/.err")" "no report" "no report yet"

# codes, params, firmware, plans, audit, tokens
"$P" code create acme --expires 2h --max-attempts 3 --json >"$T/code.json"
code=$(py 'j["code"]' <"$T/code.json")
expect_eq "$("$P" code list acme --json | py 'j[0]["hint"]')" "${code:0:2}" "code hint"
"$P" code list acme | grep -q "$code" && fail "code listed"; ok
expect_status 0 "$P" params set model:CP-8841-3PCC Resync_Periodic=3600 Station_Name=Desk --ua rw
expect_eq "$("$P" params show model:CP-8841-3PCC | awk 'NR>2 {print $1, $2, $3}' | sort | tr '\n' ';')" \
  "Resync_Periodic rw 3600;Station_Name rw Desk;" "params table"
expect_status 0 "$P" params unset model:CP-8841-3PCC Station_Name
printf '{"Upgrade_Enable":{"value":"Yes"}}' >"$T/p.json"
expect_status 0 "$P" params replace global "$T/p.json"
expect_eq "$("$P" params show global --json | py 'j["entries"]')" "{'Upgrade_Enable': {'value': 'Yes', 'ua': None}}" "replace"
head -c 5000 /dev/urandom >"$T/spa.bin"
expect_status 0 "$P" firmware upload "$T/spa.bin"
expect_status 0 "$P" firmware add spa.bin --model SPA504G --version 7.6.2
expect_eq "$("$P" firmware list --json | py 'j[0]["sha256"]')" "$(sha256sum "$T/spa.bin" | cut -d' ' -f1)" "firmware"
# a plan whose step names a version without an image is refused (every render would fail)
expect_status 1 "$P" plan set SPA504G --target 7.6.2 --stage 7.5.5:7.6.1 --stage 7.6.1:7.6.2
expect_contains "$(cat "$T/.err")" "provisor: plan set: plan for SPA504G: no registered image of version 7.6.1 (register one first: provisor firmware upload, then firmware add" "plan refused"
head -c 5000 /dev/urandom >"$T/spa-761.bin"
expect_status 0 "$P" firmware upload "$T/spa-761.bin"
expect_status 0 "$P" firmware add spa-761.bin --model SPA504G --version 7.6.1
expect_status 0 "$P" plan set SPA504G --target 7.6.2 --stage 7.5.5:7.6.1 --stage 7.6.1:7.6.2
expect_eq "$("$P" plan show SPA504G --json | py 'j["stages"]')" "[['7.5.5', '7.6.1'], ['7.6.1', '7.6.2']]" "plan"
expect_status 2 "$P" plan set SPA504G --target 1 --stage nocolon
expect_eq "$("$P" report list --json)" "[]" "no reports"
"$P" token create robot --json >"$T/tok.json"
robot=$(py 'j["token"]' <"$T/tok.json")
expect_eq "$("$P" --help >/dev/null; "$P" account list --token "$robot" --json | py 'len(j)')" 2 "--token"
PROVISOR_TOKEN=$robot "$P" device delete 000e08abcdef >/dev/null
expect_eq "$("$P" audit list --device 000e08abcdef --json | py 'j[-1]["actor"], j[-1]["action"]')" \
  "token:robot device.delete" "audit names the token"
expect_contains "$("$P" audit list --actor robot)" "device.delete" "audit table"
expect_status 1 "$P" account list --token wrong
expect_contains "$(cat "$T/.err")" "unknown token (HTTP 401)" "401 shown"
expect_status 2 "$P" account list --bogus
expect_status 2 "$P" account frobnicate
expect_status 0 "$P" device --help
expect_contains "$(cat "$T/.out")" "import FILE.csv" "help lists import"
# Control characters are refused on write with the field named (one made every render fail).
expect_status 1 "$P" params set global "$(printf 'Station_Name=desk\001')"
expect_contains "$(cat "$T/.err")" "byte 5 is a control character (U+0001)" "CLI: byte named"
expect_contains "$(cat "$T/.err")" "[field entries.Station_Name.value] (HTTP 422)" "CLI: field named"
expect_status 1 "$P" account create ctl --customer "$(printf 'Acme\033[31m')"
expect_contains "$(cat "$T/.err")" "byte 5 is a control character (U+001B); expected UTF-8 text without control characters [field customer]" "CLI: customer"
expect_status 1 "$P" account list --server "http://127.0.0.1:$(free_port tcp)"
expect_contains "$(cat "$T/.err")" "cannot reach the admin API" "server down"
serve_stop

# dhcp-snippet (needs no server)
expect_status 0 "$P" dhcp-snippet --dnsmasq --tftp-server 192.0.2.10 --tftp-server 192.0.2.11 \
  --url 'http://prov.example.net/$PSN.xml'
cp "$T/.out" "$T/dnsmasq.conf"
expect_contains "$(cat "$T/dnsmasq.conf")" 'dhcp-option=tag:provisor-phone,66,"192.0.2.10"' "66"
expect_contains "$(cat "$T/dnsmasq.conf")" 'dhcp-option=tag:provisor-phone,150,192.0.2.10,192.0.2.11' "150 address list"
expect_contains "$(cat "$T/dnsmasq.conf")" 'dhcp-option=tag:provisor-phone,160,"http://prov.example.net/$PSN.xml"' "160"
if command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ]; then
  expect_status 0 "${DNSMASQ:-/usr/sbin/dnsmasq}" --test -C "$T/dnsmasq.conf"
fi
expect_status 0 "$P" dhcp-snippet --kea --tftp-server 192.0.2.10 --url 'https://prov.example.net/init'
cp "$T/.out" "$T/kea.json"
expect_eq "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["Dhcp4"]; c=j["client-classes"][0]; print(sorted(d["code"] for d in j["option-def"]), sorted(d["code"] for d in c["option-data"]), "option[60]" in c["test"])' "$T/kea.json")" \
  "[150, 160] [66, 150, 160] True" "kea JSON: options for the phones' vendor classes only"
# spec 10: option 159 from --server-ip or the URL's IPv4 host, and option 60 scoping
expect_status 0 "$P" dhcp-snippet --dnsmasq --url 'http://192.0.2.20:8080/$PSN.xml'
expect_contains "$(cat "$T/.out")" 'dhcp-option=tag:provisor-phone,159,"192.0.2.20"' "159 from the URL host"
expect_contains "$(cat "$T/.out")" 'dhcp-vendorclass=set:provisor-phone,Cisco SPA' "SPA vendor class"
cp "$T/.out" "$T/dnsmasq159.conf"
if command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ]; then
  expect_status 0 "${DNSMASQ:-/usr/sbin/dnsmasq}" --test -C "$T/dnsmasq159.conf"
fi
if [ -x /usr/sbin/kea-dhcp4 ]; then
  expect_status 0 /usr/sbin/kea-dhcp4 -t "$T/kea.json"
  sed 's/192.0.2.10"/192.0.2.300"/' "$T/kea.json" >"$T/kea-bad.json"
  expect_status 1 /usr/sbin/kea-dhcp4 -t "$T/kea-bad.json"
fi
expect_status 1 "$P" dhcp-snippet --kea --tftp-server 10.0.0.300
expect_contains "$(cat "$T/.err")" "option 150 holds IPv4 addresses" "bad address"
expect_status 1 "$P" dhcp-snippet --dnsmasq --url 'ftp://x'
expect_status 1 "$P" dhcp-snippet --dnsmasq --url 'http://x/"a'
expect_status 1 "$P" dhcp-snippet --dnsmasq
expect_status 2 "$P" dhcp-snippet --tftp-server 192.0.2.1
expect_status 2 "$P" dhcp-snippet --dnsmasq --kea --tftp-server 192.0.2.1
done_ok
