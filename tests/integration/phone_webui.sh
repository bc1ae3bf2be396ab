#!/usr/bin/env bash
# The phone's web server and command line (spec 9, 5.3, 10, 12.2) with curl as the browser:
# admin and user logins (HTTP Basic and &xuser=&xpassword=), ua filtering of the user's view,
# POST /admin/config.xml whole-or-nothing, Enable_Direct_Action_Url, Restricted_Access_Domains,
# Provision_Enable, the requester as default server, `provisor phone call|status|factory-reset`
# (running and offline), the udhcpc hook with a fake environment, state across restarts,
# and Enable_Web_Server / Enable_Web_Admin_Access.
# Covers src/cli/cmd_phone.c, src/phone/webui.c, dhcp_hook.c (the udhcpc hook) and
# phone_files.c (the state kept across restarts).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/phone_lib.bash"

MAC=000e08123456
phone_start w --mac "$MAC" --model CP-8841-3PCC
cli() { "$PV_BIN" phone "$@" --state-dir "$T/w"; }

# Factory state: no passwords, so no prompt (spec 9).
expect_eq "$(code /admin/status.xml)" 200 "no admin password: admin without login"
expect_eq "$(field Provisioning_State)" MFG-RESET "factory state"
expect_contains "$(web /)" "CP-8841-3PCC $MAC" "home page"

# POST a profile (C-FMT example form), passwords, a user-visible and a hidden parameter.
cat >"$T/cfg.xml" <<'XML'
<flat-profile>
  <Admin_Password>Adm1n-pass</Admin_Password>
  <User_Password>us3r-pass</User_Password>
  <Station_Name ua="rw">desk-1</Station_Name>
  <Display_Name_1_ ua="ro">Alice</Display_Name_1_>
  <Proxy_1_ ua="na">sip.example</Proxy_1_>
</flat-profile>
XML
expect_eq "$(code /admin/config.xml -X POST --data-binary @"$T/cfg.xml")" 200 "config posted"
expect_eq "$(code /admin/status.xml)" 401 "admin password set: login needed"
expect_eq "$(code /admin/status.xml -u admin:wrong)" 401 "wrong password"
expect_contains "$(curl -sS --max-time 60 -D - -o /dev/null "http://$PHONE/admin/status.xml")" \
  'WWW-Authenticate: Basic realm="phone"' "a browser is asked to log in"
expect_eq "$(code /admin/status.xml -u admin:Adm1n-pass)" 200 "Basic admin login"
expect_eq "$(code '/admin/status.xml&xuser=admin&xpassword=Adm1n-pass')" 200 "xuser/xpassword"
expect_eq "$(code '/admin/status.xml?xuser=admin&xpassword=Adm1n-pass')" 200 "xuser after ?"
expect_eq "$(code /admin/status.xml -u user:us3r-pass)" 403 "user cannot open admin pages"
A=(-u admin:Adm1n-pass)
admin_cfg=$(web /admin/cfg.xml "${A[@]}")
expect_contains "$admin_cfg" "<Admin_Password" "password parameter listed"
case "$admin_cfg" in *Adm1n-pass*) fail "admin cfg.xml shows a password" ;; esac; ok
expect_contains "$admin_cfg" "sip.example" "admin sees ua=na parameters"
user_cfg=$(web /cfg.xml -u user:us3r-pass)
expect_contains "$user_cfg" "desk-1" "user sees rw"
expect_contains "$user_cfg" "Alice" "user sees ro"
case "$user_cfg" in *sip.example* | *Proxy_1_*) fail "user view shows a ua=na parameter" ;; esac; ok
expect_eq "$(code /cfg.xml)" 401 "user password set: login needed"

# A broken profile is applied not at all.
printf '<flat-profile><Station_Name>half</Station_Name><Oops>' >"$T/bad.xml"
expect_eq "$(code '/admin/config.xml&xuser=admin&xpassword=Adm1n-pass' -X POST \
  --data-binary @"$T/bad.xml")" 400 "bad profile refused"
expect_eq "$(param Station_Name "${A[@]}")" desk-1 "nothing of a bad profile applied"

# The requester is the server when the URL names none (spec 1.2); a profile from a test server.
HTTP_PORT=$(free_port tcp)
mkdir -p "$T/srv"
printf '<flat-profile><GPP_C>from-requester</GPP_C></flat-profile>\n' >"$T/srv/r.xml"
python3 -m http.server "$HTTP_PORT" --bind 127.0.0.1 --directory "$T/srv" >/dev/null 2>&1 &
PV_CLEANUP+=("kill $! 2>/dev/null")
wait_until 10 "test server" bash -c "exec 3<>/dev/tcp/127.0.0.1/$HTTP_PORT"
expect_contains "$(web "/admin/resync?http://:$HTTP_PORT/r.xml" "${A[@]}")" \
  "http://127.0.0.1:$HTTP_PORT/r.xml" "requester filled in"
pc() { [ "$(param GPP_C -u admin:Adm1n-pass)" = "$1" ]; }
wait_until 10 "profile from the requester applied" pc from-requester

# Restricted_Access_Domains and Provision_Enable: refused, clearly.
printf '<flat-profile><Restricted_Access_Domains>prov.example.com</Restricted_Access_Domains></flat-profile>' \
  >"$T/rad.xml"
web /admin/config.xml "${A[@]}" --data-binary @"$T/rad.xml" >/dev/null
expect_eq "$(code "/admin/resync?http://127.0.0.1:$HTTP_PORT/r.xml" "${A[@]}")" 403 \
  "resync outside Restricted_Access_Domains"
expect_eq "$(code "/admin/upgrade?http://evil.example/fw.loads" "${A[@]}")" 403 \
  "upgrade outside Restricted_Access_Domains"
printf '<flat-profile><Restricted_Access_Domains></Restricted_Access_Domains><Provision_Enable>No</Provision_Enable></flat-profile>' \
  >"$T/pe.xml"
web /admin/config.xml "${A[@]}" --data-binary @"$T/pe.xml" >/dev/null
expect_eq "$(code "/admin/resync?http://127.0.0.1:$HTTP_PORT/r.xml" "${A[@]}")" 403 \
  "Provision_Enable No"

# Direct action URLs off (MPP Enable_Direct_Action_Url): the pages refuse, the rest works.
printf '<flat-profile><Provision_Enable>Yes</Provision_Enable><Enable_Direct_Action_Url>No</Enable_Direct_Action_Url></flat-profile>' \
  >"$T/da.xml"
web /admin/config.xml "${A[@]}" --data-binary @"$T/da.xml" >/dev/null
expect_eq "$(code /admin/resync "${A[@]}")" 403 "direct action resync disabled"
expect_eq "$(code /admin/reboot "${A[@]}")" 403 "direct action reboot disabled"
expect_eq "$(code /admin/call?start "${A[@]}")" 200 "emulator controls still answer"
expect_eq "$(code /admin/call?end "${A[@]}")" 200 "call ended"
printf '<flat-profile><Enable_Direct_Action_Url>Yes</Enable_Direct_Action_Url></flat-profile>' \
  >"$T/da.xml"
web /admin/config.xml "${A[@]}" --data-binary @"$T/da.xml" >/dev/null

# The command line against the running phone.
expect_status 0 cli call start --password Adm1n-pass
expect_status 0 cli status --password Adm1n-pass
expect_contains "$(cat "$T/.out")" "<Call_State ua=\"ro\">Busy" "call state via the CLI"
expect_status 0 cli call end --password Adm1n-pass
expect_status 1 cli call end --password wrong
expect_status 2 cli call sideways

# The udhcpc hook: a fake busybox environment; the running phone gets SIGHUP and the lease.
url160=$(printf 'http://127.0.0.1:%s/r.xml' "$HTTP_PORT" | od -An -tx1 | tr -d ' \n')
expect_status 0 env -i PATH="$PATH" ip=127.0.0.7 router=127.0.0.1 siaddr=0.0.0.0 \
  tftp=tftp.invalid opt150=0a000001 opt160="$url160" "$PV_BIN" phone dhcp-hook bound \
  --state-dir "$T/w"
expect_eq "$(cat "$T/w/dhcp")" "$(printf 'ip=127.0.0.7\n66=tftp.invalid\n150=10.0.0.1\n160=http://127.0.0.1:%s/r.xml' "$HTTP_PORT")" \
  "lease stored"
cip() { [ "$(field Current_IP -u admin:Adm1n-pass)" = 127.0.0.7 ]; }
wait_until 10 "lease applied by the running phone" cip
expect_status 1 env -i opt160=zz "$PV_BIN" phone dhcp-hook bound --state-dir "$T/w"
expect_contains "$(cat "$T/.err")" "opt160" "bad hook input named"
expect_status 0 env -i "$PV_BIN" phone dhcp-hook leasefail --state-dir "$T/w"

# Admin access off, then the whole web server off.
printf '<flat-profile><Enable_Web_Admin_Access>No</Enable_Web_Admin_Access></flat-profile>' >"$T/wa.xml"
web /admin/config.xml "${A[@]}" --data-binary @"$T/wa.xml" >/dev/null
expect_eq "$(code /admin/status.xml "${A[@]}")" 403 "Enable_Web_Admin_Access No"
expect_eq "$(code /cfg.xml -u user:us3r-pass)" 200 "user pages still served"

# State survives a restart; factory reset offline from the state directory.
phone_stop
expect_status 0 cli status
expect_contains "$(cat "$T/.out")" "<MAC_Address ua=\"ro\">$MAC<" "offline status"
phone_start w
expect_eq "$(code /admin/status.xml "${A[@]}")" 403 "settings kept across restart"
phone_stop
expect_status 0 cli factory-reset
expect_contains "$(cat "$T/.out")" "MFG-RESET" "offline factory reset"
phone_start w
expect_eq "$(code /admin/status.xml)" 200 "factory reset: no password, admin pages back"
expect_eq "$(field Provisioning_State)" MFG-RESET "MFG-RESET after factory reset"
expect_eq "$(param Station_Name)" "" "parameters back to factory values"
# Factory reset of a running phone through its web server.
web /admin/config.xml --data-binary @"$T/cfg.xml" >/dev/null
expect_status 0 cli factory-reset --password Adm1n-pass
wait_until 10 "running phone reset" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' http://$PHONE/admin/status.xml) = 200 ]"
printf '<flat-profile><Enable_Web_Server>No</Enable_Web_Server></flat-profile>' >"$T/ws.xml"
web /admin/config.xml --data-binary @"$T/ws.xml" >/dev/null
expect_eq "$(code /)" 403 "Enable_Web_Server No"
expect_status 2 "$PV_BIN" phone --clock sundial
expect_status 1 "$PV_BIN" phone --state-dir "$T/new"
expect_contains "$(cat "$T/.err")" "--mac" "a new state directory needs a MAC"
expect_status 1 "$PV_BIN" phone --state-dir "$T/w" --mac 000e08999999
expect_contains "$(cat "$T/.err")" "belongs to the phone" "another phone's state refused"
phone_stop
done_ok
