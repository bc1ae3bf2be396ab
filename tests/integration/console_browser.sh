#!/usr/bin/env bash
# The operator console on the admin listener (issue 13 item 1; docs/console.md), first with curl
# (cookie rules, headers, a customer refused, the API with a session: CSRF and the role table),
# then in a real browser: Debian's chromium, headless, driven by playwright-core with axe-core
# (tests/browser/, its lockfile, installed by scripts/deps.sh). Devices are seeded through
# `provisor device import` from a generated CSV (PV_CONSOLE_DEVICES, 100 000 by default); an
# operator logs in, finds one device among them by MAC prefix, sees its layered parameters,
# makes an edit whose dry run reports a failing render and is refused, fixes it, runs a resync;
# a viewer sees no button and its POST is refused 403. Screenshots are kept in
# $PV_BUILD/console_browser/.
# Covers src/server/console*.c (console_account.c and console_accounts.c: the accounts pages;
# audit_query.c behind the audit page; by name, as each page is driven in the browser:
# console_audit.c, console_codes.c, console_params.c, console_settings.c),
# store/store_device_search.c, portal.c's console mode, web/static/console.*.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

browser_ready

D="$T/data"
N=${PV_CONSOLE_DEVICES:-100000}
MAC=000e08c0ffee
serve_ports
SIP_SINK=$(free_port udp) # nobody answers there: the resync job is started, its NOTIFY times out
serve_start run --data-dir "$D" --tftp off --sip-outbound-proxy "127.0.0.1:$SIP_SINK" \
  --sip-timeout-ms 1000 --sip-retries 0
P=$PV_BIN
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
wait_for 20 "admin API up" "$P" account list

"$P" account create acme --settings '{"lines":[{"line":1,"user":"1001","display_name":"Front","password":"line-pw-1"}]}' >/dev/null
"$P" account create bulk >/dev/null
"$P" params set global 'Proxy_1_=sip.example.test' >/dev/null
"$P" params set account:acme 'User_ID_1_={{lines.0.user}}' 'Password_1_=s3cret-line' >/dev/null
"$P" device create "$MAC" --model CP-8841-3PCC --account acme >/dev/null
"$P" params set "device:$MAC" 'Display_Name_1_=Front desk' >/dev/null

# N devices from a CSV, through the import (the path an operator takes), timed.
python3 - "$N" >"$T/devices.csv" <<'PY'
import sys
n = int(sys.argv[1])
models = ["CP-8841-3PCC", "SPA504G", "CP-7841-3PCC", "ATA191-MPP"]
print("MAC,model,account")
for i in range(n):
    print("0004f2%06x,%s,bulk" % (i, models[i % 4]))
PY
t0=$(date +%s%N)
"$P" device import "$T/devices.csv" --batch 5000 >"$T/import.out" 2>&1 || fail "import: $(tail -5 "$T/import.out")"
echo "# imported $N devices in $((($(date +%s%N) - t0) / 1000000)) ms"

printf '%s\n' 'operator password 1' | "$P" user create ops --role operator --password-stdin >/dev/null
printf '%s\n' 'viewer password 1' | "$P" user create view --role viewer --password-stdin >/dev/null
printf '%s\n' 'alice password 1' | "$P" customer create acme alice --password-stdin >/dev/null

U="http://127.0.0.1:$ADMIN_PORT"
c() { local jar=$1; shift; curl -sS -b "$T/$jar" -c "$T/$jar" "$@"; }

# The console's login page on the admin listener, with the portal's headers; /metrics stays.
c x -D "$T/h" -o "$T/root.html" "$U/"
expect_contains "$(tr -d '\r' <"$T/h")" "Location: /login" "/ leads to the login"
c x -D "$T/h" -o "$T/login.html" "$U/login"
expect_contains "$(tr -d '\r' <"$T/h")" "Content-Security-Policy: default-src 'none'" "CSP"
expect_contains "$(cat "$T/login.html")" 'Provisor operator console' "the console's login"
expect_contains "$(curl -sS "$U/metrics")" "provisor_" "/metrics still served"
# A customer login is not an operator: refused as a wrong password.
code=$(c x -o /dev/null -w '%{http_code}' -d 'login=alice&password=alice+password+1' "$U/login")
expect_eq "$code" 401 "a customer cannot log in to the console"
# The viewer: a session cookie of its own name, Secure; HttpOnly; SameSite=Strict.
c v -D "$T/h" -o /dev/null -d 'login=view&password=viewer+password+1' "$U/login"
h=$(tr -d '\r' <"$T/h")
expect_contains "$h" "Location: /devices" "login lands on the devices"
expect_contains "$(grep -i '^set-cookie: __Host-pv_console' <<<"$h")" "Secure; HttpOnly; SameSite=Strict" "cookie attributes"
c v -o "$T/dev.html" "$U/devices/$MAC"
expect_contains "$(cat "$T/dev.html")" "Front desk" "the viewer reads the device"
[[ "$(cat "$T/dev.html")" != *'class="api"'* ]] || fail "action buttons shown to a viewer"; ok
[[ "$(cat "$T/dev.html")" != *s3cret-line* ]] || fail "a secret shown unmasked"; ok
VCSRF=$(grep -o 'data-csrf="[^"]*"' "$T/dev.html" | head -1 | sed 's/.*="//; s/"$//')
# The API with the viewer's session: reads pass, a change is refused by the role table (403),
# and without the CSRF header (or with another's) before that.
expect_eq "$(c v -o /dev/null -w '%{http_code}' "$U/api/v1/devices/$MAC")" 200 "viewer reads the API"
code=$(c v -o "$T/r.json" -w '%{http_code}' -X POST -H "X-CSRF-Token: $VCSRF" \
  -H 'Content-Type: application/json' -d '{"action":"resync"}' "$U/api/v1/devices/$MAC/actions")
expect_eq "$code" 403 "a viewer's resync refused"
expect_contains "$(cat "$T/r.json")" '"role"' "by the role check"
code=$(c v -o /dev/null -w '%{http_code}' -X POST -d 'csrf=x' "$U/devices/$MAC/reveal")
expect_eq "$code" 403 "a POST without the session's CSRF token refused"
code=$(c v -o /dev/null -w '%{http_code}' -X POST -d "csrf=$VCSRF" "$U/devices/$MAC/reveal")
expect_eq "$code" 403 "a viewer may not reveal secrets"
code=$(c v -o /dev/null -w '%{http_code}' -X PATCH -H 'Content-Type: application/json' \
  -d '{"entries":{"X_":{"value":"1"}}}' "$U/api/v1/params/global")
expect_eq "$code" 403 "an API change without X-CSRF-Token refused"
# A token still reaches the API as before (the console takes only calls without one).
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$U/api/v1/devices/$MAC")" 401 "no token, no cookie: 401"

# Settings are checked when written (the API the console's form uses): acme's parameters fill
# {{lines.0.user}}, so removing its lines is refused 422 naming the device; a dry run says so.
out=$("$P" account update acme --settings '{"lines":[]}' 2>&1) && fail "an unrenderable settings write accepted"
expect_contains "$out" "0 devices change, 1 would fail to render (first: $MAC, " "refused with the count and the device"
code=$(curl -sS -o "$T/dry.json" -w '%{http_code}' -X PATCH -H "Authorization: Bearer $(cat "$D/cli-token" 2>/dev/null)" \
  -H 'Content-Type: application/json' -d '{"settings":{"lines":[]}}' "$U/api/v1/accounts/acme?dry_run=1")
expect_eq "$code" 200 "a dry run of it answers"
expect_contains "$(cat "$T/dry.json")" '"would_fail":1' "and counts the failing device"

# Keyset search: a MAC prefix finds the one device among N; the next page follows the cursor.
c v -o "$T/search.html" "$U/devices?mac=00:0e:08:c0"
expect_contains "$(cat "$T/search.html")" "/devices/$MAC" "found by MAC prefix"
expect_contains "$(cat "$T/search.html")" "1 device shown" "and only it"
expect_contains "$(cat "$T/search.html")" '<a href="/accounts/acme">acme</a>' "its account by name, linked"
c v -o "$T/p1.html" "$U/devices?model=SPA504G"
next=$(grep -o 'id="next-page" href="[^"]*"' "$T/p1.html" | sed 's/.*href="//; s/"$//; s/&amp;/\&/g')
[ -n "$next" ] || fail "no next page"; ok
c v -o "$T/p2.html" "$U$next"
# SPA504G is every 4th device from the 2nd: page 1 ends at device 197, page 2 starts at 201.
expect_contains "$(cat "$T/p1.html")" "/devices/0004f20000c5\"" "page 1 ends at device 197"
expect_contains "$(cat "$T/p2.html")" "/devices/0004f20000c9\"" "page 2 starts after page 1's last MAC"
[[ "$(cat "$T/p2.html")" != *0004f20000c5* ]] || fail "page 2 repeats page 1"; ok

OUT="${PV_BUILD:-$T}/console_browser"
rm -rf "$OUT"
CONSOLE="$U" OUT=$OUT MAC=$MAC WAIT=$((6 * ${PV_WAIT_FACTOR:-10})) OPS=ops \
  OPS_PW='operator password 1' VIEW=view VIEW_PW='viewer password 1' \
  node "$B/console.mjs" >"$T/browser.out" 2>&1 || fail "browser: $(tail -c 3000 "$T/browser.out")"
cat "$T/browser.out"
ok
# What the browser did is in the store: the fixed value, the refused one absent, the resync job
# and the reveal audited under the operator's login.
"$P" params show account:acme --json >"$T/acme.json"
expect_contains "$(cat "$T/acme.json")" "Front {{lines.0.user}}" "the fixed edit saved"
[[ "$(cat "$T/acme.json")" != *nope* ]] || fail "the refused edit was saved"; ok
# The settings the operator saved: line 1's new user, its password kept (never on the page).
acme=$("$P" account show acme 2>&1)
expect_contains "$acme" '"user": "1002"' "the fixed settings saved"
expect_contains "$acme" '"password": "line-pw-1"' "the line password kept"
customers=$("$P" customer list acme 2>&1)
expect_contains "$customers" "bob" "the customer created in the console"
[[ "$customers" != *alice* ]] || fail "the customer deleted in the console is still there"; ok
expect_contains "$("$P" audit list 2>&1 | grep customer.password)" "login:ops" "bob's new password set by the operator"
# The upload imported its good rows through the API (the last one of 2 500 is there).
expect_contains "$("$P" device show 000e090009c3 2>&1)" "SPA504G" "the console's import reached the store"
audit=$("$P" audit list --device "$MAC" 2>&1)
expect_contains "$audit" "login:ops" "the operator's actions audited under the login"
expect_contains "$audit" "device.secrets_revealed" "the reveal audited"
# The console's audit page filters as GET /audit does: by actor and a family of actions.
c v -o "$T/audit.html" "$U/audit?actor=login:ops&action=device.&since=$(date -u +%F)"
expect_contains "$(cat "$T/audit.html")" "device.secrets_revealed" "the operator's device actions"
[[ "$(cat "$T/audit.html")" != *customer.password* ]] || fail "an action outside the family listed"; ok
code=$(c v -o "$T/audit_bad.html" -w '%{http_code}' "$U/audit?since=yesterday")
expect_eq "$code" 422 "a day that is not a date refused"
done_ok
