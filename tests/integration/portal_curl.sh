#!/usr/bin/env bash
# The customer portal over HTTPS with curl (issue 10 item 3; docs/portal.md): the server
# certificate verified against the data directory's CA, the cookie's attributes and the
# security headers, a login, a settings change through the form, a change refused because a
# profile would not render, a POST without the CSRF token refused, customer A unable to reach
# B's phone or code by URL, the lockout after wrong passwords (and the right one refused while
# locked), logout, and the session stored hashed. "Resync my phone" (spec 5.5): a real phone
# (`provisor phone --sip`) bound with alice's portal code gets the server's check-sync NOTIFY
# after its binding, then alice's button sends it a NOTIFY straight to its SIP port (the
# account's sip_delivery = direct), which it challenges and acts on: it fetches the profile
# with the operator's change; a second press within the minute is refused (429), bob cannot
# target it (404, no job), and a settings change NOTIFYs exactly the phone whose profile changed.
# Covers src/server/portal.c, portal_pages.c, portal_codes.c, portal_push.c, push.c,
# websession.c, i18n.c, core/form.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"

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

# --- "Resync my phone": a real phone, bound with the portal's code, reached by SIP NOTIFY ---
MAC=000e08aaaa02
PHONE_SIP=$(free_port udp)
# The operator's side: the phone known to acme, its line (only this phone renders the display
# name), NOTIFYs straight to the address it provisions from.
"$P" device create 00:0e:08:aa:aa:02 --model CP-8841-3PCC --account acme >/dev/null
"$P" params set device:$MAC 'User_ID_1_={{lines.0.user}}' 'Password_1_=l1ne-s3cret' \
  "Proxy_1_=127.0.0.1:$(free_port udp)" "SIP_Port_1_=$PHONE_SIP" \
  'Display_Name_1_={{lines.0.display_name}}' >/dev/null
"$P" account update acme --settings '{"sip_delivery":"direct"}' >/dev/null
expect_status 0 "$P" phone cert --mac "$MAC" --model CP-8841-3PCC --data-dir "$PROVISOR_DATA" --out "$T/phone.pem"
phone_start ph --mac "$MAC" --model CP-8841-3PCC --cert "$T/phone.pem" --key "$T/phone.pem" \
  --ca "$CA" --sip "127.0.0.1:$PHONE_SIP"
CODE=$(sed -n 's/.*id="code">\([0-9]*\)<.*/\1/p' "$T/code.html")
expect_contains "$(web "/admin/resync?https://127.0.0.1:$HTTPS_PORT/init/$CODE")" "resync started" "the customer's one command"
wait_until 60 "the phone bound and configured" field_is Provisioning_State SEC-PRV-2
# The server's own check-sync NOTIFY once the binding completed ([sip] notify_after_binding):
# the customer's page shows it, the job is the server's, the phone accepted it.
push_state() { c a "$U/phones/$MAC/push.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
push_is() { [ "$(push_state)" = "$1" ]; }
wait_until 60 "the NOTIFY after the binding answered" push_is ok
wait_log "$T/ph.log" "event=sip.notify line=1 event=check-sync .*result=accepted"
"$P" job list --json >"$T/jobs.json"
expect_eq "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); j=j["items"] if isinstance(j,dict) else j; print([(x["action"], x["subject"], x["actor"], x["outcomes"]["ok"]) for x in j])' "$T/jobs.json")" \
  "[('check-sync', '$MAC', 'server', 1)]" "one job, the server's, after the binding"
jobs_before=$("$P" job list --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j["items"] if isinstance(j,dict) else j))')

# The button: a change the operator made without --notify reaches the phone now.
"$P" params set device:$MAC 'Station_Name=acme-front-v2' >/dev/null
[ "$(param Station_Name)" != acme-front-v2 ] || fail "the phone had the change before the button"
ok
c a -o "$T/phone.html" -H 'Accept-Language: en' "$U/phones/$MAC"
expect_contains "$(cat "$T/phone.html")" 'id="resync"' "the phone page has the button"
expect_contains "$(cat "$T/phone.html")" "once a minute" "and says how often"
c a -D "$T/h" -o /dev/null -d "csrf=$C" "$U/phones/$MAC/resync"
expect_contains "$(tr -d '\r' <"$T/h")" "Location: /phones/$MAC" "the button redirects to the phone's page"
wait_until 60 "the phone fetched its profile on the customer's NOTIFY" param_is Station_Name acme-front-v2
wait_until 30 "the page shows it sent" push_is ok
c a -o "$T/phone.html" -H 'Accept-Language: en' "$U/phones/$MAC"
expect_contains "$(cat "$T/phone.html")" "sent: the phone accepted it" "the outcome in words"
c a -o "$T/phone_ja.html" -H 'Accept-Language: ja' "$U/phones/$MAC"
expect_contains "$(cat "$T/phone_ja.html")" "この電話機を再同期" "the button in Japanese"
"$P" audit list --actor login:alice --json >"$T/audit.json"
expect_contains "$(cat "$T/audit.json")" '"device.resync"' "audited with the customer as the actor"
# Pressed again within the minute: refused, no NOTIFY.
code=$(c a -o "$T/soon.html" -w '%{http_code}' -H 'Accept-Language: en' -d "csrf=$C" "$U/phones/$MAC/resync")
expect_eq "$code" 429 "a second press within the minute refused"
expect_contains "$(cat "$T/soon.html")" "less than a minute ago" "saying why"
expect_eq "$(c a -o "$T/soon_all.html" -w '%{http_code}' -d "csrf=$C" "$U/resync")" 429 "resync my phones: none may be asked yet"
expect_contains "$(cat "$T/soon_all.html")" "Your phones were all asked to resync" "saying so of all the phones"
# bob cannot target alice's phone, with his own valid session and token.
expect_eq "$(c b -o /dev/null -w '%{http_code}' -d "csrf=$CB" "$U/phones/$MAC/resync")" 404 "bob cannot resync alice's phone"
expect_eq "$(c b -o /dev/null -w '%{http_code}' "$U/phones/$MAC/push.json")" 404 "nor read its status"
expect_eq "$(c a -o /dev/null -w '%{http_code}' -d "version=1" "$U/phones/$MAC/resync")" 403 "no CSRF token: refused"
expect_eq "$("$P" job list --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j["items"] if isinstance(j,dict) else j))')" \
  "$((jobs_before + 1))" "one job for the one accepted press"

# A settings change NOTIFYs exactly the phones whose profile changed: the display name is
# rendered by this phone only; a speed dial by none. The phone was asked by the button less
# than a minute ago, so it is asked once more a minute after the save, not now; a second save
# while that one waits adds no NOTIFY (the phone fetches the newest profile when it comes).
# save FORM: alice saves the settings form with these fields; prints where she is sent.
save() {
  c a -o "$T/acct_form.html" "$U/account"
  local v; v=$(sed -n 's/.*name="version" value="\([0-9]*\)".*/\1/p' "$T/acct_form.html")
  c a -D "$T/h" -o /dev/null -d "csrf=$C&version=$v&$1" "$U/settings"
  tr -d '\r' <"$T/h" | sed -n 's/^Location: //p'
}
jobs() { "$P" job list --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j["items"] if isinstance(j,dict) else j))'; }
expect_eq "$(save display_name_1=Counter)" "/account?saved=1&notified=0&later=1" "asked within the minute, not now"
"$P" job list --json | python3 -c 'import json,sys; j=json.load(sys.stdin); j=j["items"] if isinstance(j,dict) else j; print(j[0]["id"])' >"$T/job.id"
expect_eq "$(jobs)" "$((jobs_before + 2))" "one job for the save"
c a -o "$T/saved.html" -H 'Accept-Language: en' "$U/account?saved=1&notified=0&later=1"
expect_contains "$(cat "$T/saved.html")" "1 phone asked less than a minute ago will be asked within a minute" "the page says when"
expect_eq "$(save display_name_1=Counter+2)" "/account?saved=1&notified=0&later=1" "the second save: still within the minute"
expect_eq "$(jobs)" "$((jobs_before + 2))" "no job for it: the waiting NOTIFY covers it"
[ "$(param Display_Name_1_)" != "Counter 2" ] || fail "the phone was asked at once"
wait_until 120 "the phone has the newest display name, a minute later" param_is Display_Name_1_ "Counter 2"
expect_eq "$("$P" job show "$(cat "$T/job.id")" --wait --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["actor"], j["total"], [d["mac"] for d in j["devices"]], j["outcomes"]["ok"])')" \
  "login:alice 1 ['$MAC'] 1" "exactly the changed phone, ok"
c a -o "$T/saved.html" -H 'Accept-Language: en' "$U/account?saved=1&notified=1"
expect_contains "$(cat "$T/saved.html")" "1 phone was asked to fetch them now" "the page says so of a phone asked now"
expect_eq "$(save 'display_name_1=Counter+2&sd_number_2=1002&sd_name_4=Ann&sd_number_4=1004')" \
  "/account?saved=1&notified=0&later=0" "no profile changed: no phone asked"
phone_stop

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
