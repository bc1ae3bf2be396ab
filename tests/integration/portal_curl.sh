#!/usr/bin/env bash
# The customer portal over HTTPS with curl (issue 10 item 3; docs/portal.md): the server
# certificate verified against the data directory's CA, the cookie's attributes and the
# security headers, a login, a settings change through the form, a change refused because a
# profile would not render, a POST without the CSRF token refused, customer A unable to reach
# B's phone or code by URL, the lockout after wrong passwords (and the right one refused while
# locked), logout, and the session stored hashed.
# Covers src/server/portal.c, portal_pages.c, websession.c, i18n.c, core/form.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

export PROVISOR_DATA="$T/data"
serve_ports
PORTAL_PORT=$(free_port tcp)
PORTAL_ADDR="127.0.0.1:$PORTAL_PORT"
serve_start portal --tftp off --portal-lockout-failures 3
export PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
wait_log "$T/portal.log" "proto=portal addr=127.0.0.1:$PORTAL_PORT"
P=$PV_BIN
U="https://127.0.0.1:$PORTAL_PORT"
CA="$PROVISOR_DATA/tls/ca.pem"
settings='{"lines":[{"line":1,"user":"1001","display_name":"Front"}],"speed_dials":[{"key":2,"number":"1002"}],"user_features":["display_name","speed_dials","hunt_group"],"hunt_group":{"number":"600","members":[]}}'
"$P" account create acme --settings "$settings" >/dev/null
"$P" account create beta --settings '{"lines":[{"line":1,"user":"2001"}]}' >/dev/null
printf '%s\n' 'acme password 1' | "$P" customer create acme alice --password-stdin >/dev/null
printf '%s\n' 'beta password 1' | "$P" customer create beta bob --password-stdin >/dev/null
"$P" device create 00:0e:08:aa:aa:01 --model CP-8841-3PCC --account acme >/dev/null
"$P" device create 00:0e:08:bb:bb:01 --model CP-8841-3PCC --account beta >/dev/null

# c JAR ARGS... — curl against the portal, verifying its certificate with the server CA.
c() { local jar=$1; shift; curl -sS --cacert "$CA" -b "$T/$jar" -c "$T/$jar" "$@"; }
csrf() { grep -o 'name="csrf" value="[^"]*"' "$1" | head -1 | sed 's/.*value="//; s/"$//'; }

# The login page, in the browser's language, with the security headers.
c a -D "$T/h" -o "$T/login.html" -H 'Accept-Language: ja,en;q=0.5' "$U/login"
expect_contains "$(cat "$T/login.html")" '<html lang="ja">' "Accept-Language picks Japanese"
expect_contains "$(cat "$T/login.html")" "ログイン名" "Japanese labels"
h=$(tr -d '\r' <"$T/h")
expect_contains "$h" "Content-Security-Policy: default-src 'none'; script-src 'self'" "CSP"
expect_contains "$h" "frame-ancestors 'none'" "no framing"
expect_contains "$h" "X-Content-Type-Options: nosniff" "nosniff"
expect_contains "$h" "Strict-Transport-Security: max-age=" "HSTS"
expect_contains "$h" "Cache-Control: no-store" "pages are not stored"

# Log in: a session cookie Secure; HttpOnly; SameSite=Strict, then the account.
c a -D "$T/h" -o /dev/null -d 'login=alice&password=acme+password+1' "$U/login"
h=$(tr -d '\r' <"$T/h")
expect_contains "$h" "HTTP/1.1 303" "login redirects"
expect_contains "$h" "Location: /account" "to the account"
expect_contains "$h" "Set-Cookie: __Host-pv_session=" "session cookie"
expect_contains "$(grep -i '^set-cookie: __Host-pv_session' <<<"$h")" "Secure; HttpOnly; SameSite=Strict" "cookie attributes"
token=$(awk '$6 == "__Host-pv_session" {print $7}' "$T/a")
expect_eq "${#token}" 43 "a 256-bit token"
expect_eq "$(sqlite3 "$PROVISOR_DATA/provisor.db" "SELECT COUNT(*) FROM sessions WHERE token_hash = '$token'")" 0 "the token is not stored"
expect_eq "$(sqlite3 "$PROVISOR_DATA/provisor.db" "SELECT COUNT(*) FROM sessions")" 1 "its hash is"
c a -o "$T/acct.html" -H 'Accept-Language: en' "$U/account"
expect_contains "$(cat "$T/acct.html")" '<dd id="account-name">acme</dd>' "alice sees acme"
expect_contains "$(cat "$T/acct.html")" "000e08aaaa01" "and acme's phone"
[[ "$(cat "$T/acct.html")" != *000e08bbbb01* ]] || fail "beta's phone shown to alice"; ok
C=$(csrf "$T/acct.html")

# A change through the form: speed dial 3, the line's display name, hunt group membership.
c a -D "$T/h" -o /dev/null -d "csrf=$C&version=1&display_name_1=Reception&sd_number_2=1002&sd_name_3=Bob&sd_number_3=1003&hunt_1=on" "$U/settings"
expect_contains "$(tr -d '\r' <"$T/h")" "Location: /account?saved=1" "settings saved"
"$P" account show acme --json >"$T/acme.json"
expect_eq "$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["settings"]; print(s["speed_dials"], s["lines"][0]["display_name"], s["hunt_group"]["members"])' "$T/acme.json")" \
  "[{'key': 2, 'number': '1002'}, {'key': 3, 'name': 'Bob', 'number': '1003'}] Reception ['1001']" "settings as the form said"

# Invalid values are refused with the reason; nothing changes.
code=$(c a -o "$T/bad.html" -w '%{http_code}' -d "csrf=$C&version=2&sd_number_4=12ab" "$U/settings")
expect_eq "$code" 422 "a bad number refused"
expect_contains "$(cat "$T/bad.html")" "Speed dial 4" "with the reason"
# A change that would make a profile fail to render is refused naming the phone.
"$P" params set account:acme 'Speed_Dial_5_={{speed_dials.1.number}}' >/dev/null
code=$(c a -o "$T/bad.html" -w '%{http_code}' -d "csrf=$C&version=2&sd_number_2=&sd_number_3=" "$U/settings")
expect_eq "$code" 422 "a change breaking a profile refused"
expect_contains "$(cat "$T/bad.html")" "000e08aaaa01" "the phone is named"
"$P" params unset account:acme Speed_Dial_5_ >/dev/null
expect_eq "$("$P" account show acme --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["settings"]["speed_dials"]))')" 2 "nothing changed"

# No CSRF token, a wrong one, or another origin: 403, nothing done.
expect_eq "$(c a -o /dev/null -w '%{http_code}' -d 'version=2&sd_number_4=1004' "$U/settings")" 403 "POST without CSRF refused"
expect_eq "$(c a -o /dev/null -w '%{http_code}' -d "csrf=${C%?}x&sd_number_4=1004" "$U/settings")" 403 "wrong CSRF refused"
expect_eq "$(c a -o /dev/null -w '%{http_code}' -H 'Origin: https://evil.example' -d "csrf=$C" "$U/codes")" 403 "another origin refused"
expect_eq "$("$P" account show acme --json | grep -c 1004)" 0 "no change went through"

# A code, and its status; B's phone and code are not reachable by URL.
code=$(c a -o "$T/code.html" -w '%{http_code}' -d "csrf=$C" "$U/codes")
expect_eq "$code" 201 "code created"
expect_contains "$(cat "$T/code.html")" "/admin/resync?https://127.0.0.1:$HTTPS_PORT/init/" "the resync URL to type"
cid=$(grep -o 'data-code="[0-9]*"' "$T/code.html" | grep -o '[0-9]*')
expect_eq "$(c a "$U/status.json?code=$cid" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" waiting "status waiting"
c b -o /dev/null -d 'login=bob&password=beta+password+1' "$U/login"
expect_eq "$(c b -o /dev/null -w '%{http_code}' "$U/phones/000e08aaaa01")" 404 "bob cannot see alice's phone"
expect_eq "$(c b -o /dev/null -w '%{http_code}' "$U/phones/000e08bbbb01")" 200 "bob sees his"
expect_eq "$(c b -o /dev/null -w '%{http_code}' "$U/codes/$cid")" 404 "bob cannot see alice's code"
expect_eq "$(c b -o /dev/null -w '%{http_code}' "$U/status.json?code=$cid")" 404 "nor its status"
c b -o "$T/bacct.html" "$U/account"
CB=$(csrf "$T/bacct.html")
expect_eq "$(c b -o /dev/null -w '%{http_code}' -d "csrf=$CB" "$U/phones/000e08aaaa01/unbind")" 404 "nor unbind it"
expect_eq "$("$P" device show 000e08aaaa01 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["account"])')" acme "alice's phone is still hers"
wait_log "$T/portal.log" "event=portal.scope_refused login=bob mac=000e08aaaa01"

# Unbind one's own phone: released.
c a -D "$T/h" -o /dev/null -d "csrf=$C" "$U/phones/000e08aaaa01/unbind"
expect_contains "$(tr -d '\r' <"$T/h")" "Location: /account?saved=2" "unbound"
expect_eq "$("$P" device show 000e08aaaa01 --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["account"], j["state"])')" "None SP-CUST" "released"

# Lockout: three wrong passwords lock (the policy given on the command line), then even the
# right one is refused; reset-password clears it.
for i in 1 2; do
  expect_eq "$(c x -o /dev/null -w '%{http_code}' -d 'login=alice&password=wrong+password' "$U/login")" 401 "wrong password $i"
done
expect_eq "$(c x -o "$T/locked.html" -w '%{http_code}' -d 'login=alice&password=wrong+password' "$U/login")" 429 "locked"
expect_contains "$(cat "$T/locked.html")" "locked" "says locked"
expect_eq "$(c x -o /dev/null -w '%{http_code}' -d 'login=alice&password=acme+password+1' "$U/login")" 429 "right password refused while locked"
expect_eq "$(c x -o /dev/null -w '%{http_code}' -d 'login=nobody&password=acme+password+1' "$U/login")" 401 "unknown login: the wrong-password answer"
printf '%s\n' 'acme password 2' | "$P" customer reset-password alice --password-stdin >/dev/null
expect_eq "$(c a -o /dev/null -w '%{http_code}' "$U/account")" 303 "a new password ended the old session"
expect_eq "$(c x -o /dev/null -w '%{http_code}' -d 'login=alice&password=acme+password+2' "$U/login")" 303 "unlocked by reset-password"

# Logout ends the session in the store.
c x -o "$T/acct2.html" "$U/account"
c x -D "$T/h" -o /dev/null -d "csrf=$(csrf "$T/acct2.html")" "$U/logout"
expect_contains "$(tr -d '\r' <"$T/h")" "Location: /login" "logged out"
expect_eq "$(c x -o /dev/null -w '%{http_code}' "$U/account")" 303 "the session is gone"
# No password or code in the server's log.
! grep -qE "password [12]|acme.password" "$T/portal.log" || fail "a password in the log"; ok
done_ok
