#!/usr/bin/env bash
# `provisor rule eval` end to end: the real binary, spec rules, text and JSON
# output (JSON parsed back by python3), exit codes 0/1/2.
# Covers src/cli/cmd_rule.c.
. "$(dirname "$0")/lib.sh"

# json_get FILE EXPR — prints a Python expression evaluated over the parsed JSON (as j).
json_get() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# spec 1.5: the combined example, first alternative
expect_status 0 "$PV_BIN" rule eval '("$A" ne "Provisioned")? (Line_Enable_1_ = "No";)! https://p.tel.com/init-prov | https://p.tel.com/configs'
out=$(cat "$T/.out")
expect_contains "$out" "chosen: 1" "first alternative chosen"
expect_contains "$out" "assign.Line_Enable_1_: No" "assignment shown"
expect_contains "$out" "url.scheme: https" "scheme"
expect_contains "$out" "url.port: 443" "https default port"
expect_contains "$out" "url.path: /init-prov" "path"
expect_contains "$out" 'expanded: ("" ne "Provisioned")?' "expanded rule shown"

# ...second alternative once GPP_A says Provisioned; SA..SD only inside --key
expect_status 0 "$PV_BIN" rule eval --param GPP_A=Provisioned --param SA=s3cret --mac 00:0E:08:01:23:45 \
  '("$A" ne "Provisioned")? https://p.tel.com/init-prov | [--key $SA] https://p.tel.com/$MA/$SA.xml'
out=$(cat "$T/.out")
expect_contains "$out" "chosen: 2" "second alternative chosen"
expect_contains "$out" "option.key: s3cret" "secret expanded in --key"
expect_contains "$out" "url.path: /000e08012345/\$SA.xml" "secret literal in the URL"

# spec 1.3 factory default with the identity flags; host-less URL = DHCP server
expect_status 0 "$PV_BIN" rule eval '/spa$PSN.cfg' --model SPA2102
out=$(cat "$T/.out")
expect_contains "$out" "url.path: /spa2102.cfg" "PSN of SPA2102"
expect_contains "$out" "url.dhcp_host: yes" "no server means DHCP"
expect_contains "$out" "url.port: 69" "tftp default port"

# JSON, parsed back: an MPP multistage upgrade rule (spec 6)
rule='($SWVER lt sip88xx.11-0-1MPP-376)? http://s/sip88xx.11-0-1MPP-376.loads | http://s:8080/sip88xx.12-0-1MPP-1.loads?x=1'
"$PV_BIN" rule eval --kind upgrade --swver sip88xx.11-3-1MPP-678 --json "$rule" > "$T/up.json"
expect_eq "$(json_get "$T/up.json" 'j["chosen"]')" "2" "upgrade: second stage"
expect_eq "$(json_get "$T/up.json" 'j["url"]["port"]')" "8080" "upgrade: port"
expect_eq "$(json_get "$T/up.json" 'j["url"]["query"]')" "x=1" "upgrade: query"
expect_eq "$(json_get "$T/up.json" 'j["url"]["dhcp_host"]')" "False" "upgrade: named host"
expect_eq "$(json_get "$T/up.json" 'j["outcome"]')" "selected" "upgrade: outcome"
"$PV_BIN" rule eval --kind upgrade --swver sip88xx.10-4-1MPP-1 --json "$rule" > "$T/up1.json"
expect_eq "$(json_get "$T/up1.json" 'j["chosen"]')" "1" "upgrade: first stage"

# spec 7.1 report rules, space and ';' separated
for r in '[--delta]http://s/config-mpp-delta.xml [--status]http://s/config-mpp-status.xml' \
         '[--delta]http://s/config-525.xml; [--status]http://s/status-525.xml'; do
  "$PV_BIN" rule eval --kind report --json "$r" > "$T/rep.json"
  expect_eq "$(json_get "$T/rep.json" 'len(j["reports"])')" "2" "report: two rules in '$r'"
  expect_eq "$(json_get "$T/rep.json" 'j["reports"][0]["options"]["delta"]')" "True" "report: delta"
  expect_eq "$(json_get "$T/rep.json" 'j["reports"][1]["options"]["status"]')" "True" "report: status"
done

# the rule from standard input
printf '%s\n' '[--uid u --pwd p]http://h/$MAU.xml' > "$T/rule.txt"
expect_status 0 "$PV_BIN" rule eval --mac 000e08aabbcc - < "$T/rule.txt"
expect_contains "$(cat "$T/.out")" "url.path: /000E08AABBCC.xml" "rule from stdin"

# none selected, commented, syntax error: exit 1 with the reason
expect_status 1 "$PV_BIN" rule eval '(1 eq 2)? /a | (<1.0)? /b' --swver 2.0.6
expect_contains "$(cat "$T/.err")" "no alternative selected" "no match explained"
expect_contains "$(cat "$T/.out")" "outcome: no-match" "no match printed"
expect_status 1 "$PV_BIN" rule eval '# off'
expect_contains "$(cat "$T/.err")" "commented out" "comment explained"
expect_status 1 "$PV_BIN" rule eval '(1 eq 1 http://a/b'
expect_contains "$(cat "$T/.err")" "column 9: expected 'and' or ')?' after condition" "syntax error column"
expect_status 1 "$PV_BIN" rule eval '[--gzip] /x'
expect_contains "$(cat "$T/.err")" "unknown option '--gzip'" "unknown option refused"
expect_status 1 "$PV_BIN" rule eval --json '[--gzip] /x'
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["outcome"]=="error" and "column 2" in j["error"], j' "$T/.out"
ok
expect_status 1 "$PV_BIN" rule eval --kind upgrade --model CP-8841-3PCC '/x.loads'
expect_contains "$(cat "$T/.err")" "must name a server" "a multiplatform upgrade needs a server"
# spec 1.2, SIP-ADM p.32: the Sipura guide's own serverless Upgrade_Rule
"$PV_BIN" rule eval --kind upgrade --model SPA2000 --swver 1.0.1 '(! 1.0.2)? /spa2000/1-00-02/spa.bin' >"$T/.out"
expect_contains "$(cat "$T/.out")" "outcome: selected" "a serverless SPA upgrade rule is accepted"

# usage errors: exit 2
expect_status 2 "$PV_BIN" rule eval
expect_status 2 "$PV_BIN" rule eval /a /b
expect_status 2 "$PV_BIN" rule eval --kind nope /a
expect_status 2 "$PV_BIN" rule eval --param novalue /a
expect_status 2 "$PV_BIN" rule frobnicate
expect_status 1 "$PV_BIN" rule eval --mac 12:34 /a
expect_contains "$(cat "$T/.err")" "MAC" "bad MAC explained"
expect_status 0 "$PV_BIN" rule eval --help
expect_contains "$(cat "$T/.out")" "example:" "help has an example"
done_ok
