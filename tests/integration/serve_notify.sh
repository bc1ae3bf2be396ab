#!/usr/bin/env bash
# The server's NOTIFY (spec 5.5) against SIPp playing the phone behind the provider's proxy
# ([sip] outbound_proxy): `provisor device resync MAC --wait` sends NOTIFY to the line's AOR,
# SIPp challenges it, checks the retry's Digest (the line's credentials, rendered by the
# server) with verifyauth and answers 200. Then: the phone refusing the answer (403: refused),
# nobody answering (timeout), a bulk job paced by --rate, a device without a line (skipped),
# the API's job and audit entry, and the outcomes in /metrics. Jobs and outcomes are kept in
# the store: after a restart `provisor job list|show` and GET /jobs, /jobs/{id}/devices,
# /devices/{mac}/actions still list them, page by page. Covers src/server/api_actions.c and
# src/cli/cmd_device_action.c (with integration.kamailio_notify and integration.fleet_push).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/api_helpers.bash"
command -v sipp >/dev/null || fail "sipp is not installed: run 'bash scripts/deps.sh' (make test does)"

export PROVISOR_DATA="$T/data"
PROXY_PORT=$(free_port udp)
serve_ports
serve_start srv --tftp off --https off --sip-outbound-proxy "127.0.0.1:$PROXY_PORT" \
  --sip-timeout-ms 2000 --sip-retries 0
API="http://127.0.0.1:$ADMIN_PORT/api/v1"
export PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
P=$PV_BIN
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

"$P" account create acme --settings '{"lines":[{"line":1,"user":"1001","password":"s3cret"}]}' >/dev/null
"$P" params set account:acme 'User_ID_1_={{lines.0.user}}' 'Password_1_={{lines.0.password}}' \
  'Proxy_1_=sip.acme.test' >/dev/null
"$P" device create 000e08aabb71 --model CP-8841-3PCC --account acme >/dev/null
"$P" device create 000e08aabb72 --model CP-8841-3PCC >/dev/null # no account: no SIP line

# uas NAME USER PASSWORD EVENT — SIPp as the phone behind the proxy, one NOTIFY, background
uas() {
  sed -e "s/@USER@/$2/" -e "s/@PASSWORD@/$3/" -e "s/@EVENT@/$4/" \
    "$PV_SRC/tests/sipp/phone_uas.xml" >"$T/$1.xml"
  (cd "$T" && exec sipp -sf "$T/$1.xml" -t "${UAS_T:-u1}" -i 127.0.0.1 -p "$PROXY_PORT" -m 1 \
    -timeout 30s -nostdin >"$T/$1.out" 2>&1) &
  UAS_PID=$!
  PV_CLEANUP+=("kill $UAS_PID 2>/dev/null")
  wait_until_port
}
wait_until_port() { # SIPp is bound when ss lists its UDP (TCP: listening) port
  sipp_bound() { ss -"${UAS_SS:-u}"ln | grep -q "127.0.0.1:$PROXY_PORT "; }
  wait_for 10 "SIPp bound to $PROXY_PORT" sipp_bound
}

# --- resync through the proxy, challenged, answered with the rendered credentials ---
uas ok 1001 s3cret resync
expect_status 0 "$P" device resync 000e08aabb71 --wait --json
expect_eq "$(py 'j["devices"][0]["outcome"], j["devices"][0]["status"], j["devices"][0]["challenged"]' <"$T/.out")" \
  "ok 200 True" "NOTIFY answered with the line's credentials"
wait "$UAS_PID" || fail "SIPp phone: $(tail -c 1500 "$T/ok.out")"
ok
wait_log "$T/srv.log" "event=sip.notify.done job=1 mac=000e08aabb71 event=resync outcome=ok status=200"

# --- the phone refuses the answer: auth-failed is the outcome, exit 1 ---
uas bad 1001 other-password reboot_now
expect_status 1 "$P" device reboot 000e08aabb71 --wait --json
expect_eq "$(py 'j["devices"][0]["outcome"], j["devices"][0]["status"]' <"$T/.out")" "refused 403" \
  "403 from the phone is the outcome"
wait "$UAS_PID" || true

# --- nobody answers: timeout after [sip] timeout_ms ---
expect_status 1 "$P" device report-request 000e08aabb71 --wait --json
expect_eq "$(py 'j["devices"][0]["outcome"], j["event"]' <"$T/.out")" "timeout report" "timeout"

# --- bulk by account; the device without a line is skipped ---
expect_status 1 "$P" device resync --all --rate 50/s --wait --json --timeout 30
expect_eq "$(py 'j["total"], [s["mac"] for s in j["skipped"]]' <"$T/.out")" "1 ['000e08aabb72']" \
  "a device without a SIP line is skipped"

# --- the API: one device's action, its job, the audit trail ---
TOKEN=$(cat "$PROVISOR_DATA/cli-token")
expect_call 422 POST /devices/000e08aabb72/actions '{"action":"resync"}'
expect_contains "$BODY" "no SIP line" "the reason is named"
expect_call 422 POST /devices/000e08aabb71/actions '{"action":"explode"}'
expect_call 422 POST /actions '{"action":"resync","all":true,"macs":["000e08aabb71"]}'
expect_contains "$BODY" "exactly one of macs, account or all" "one selection at a time"
expect_call 422 POST /actions '{"action":"resync","all":true,"rate":200000}'
expect_call 400 POST /actions '{"action":"resync","all":true,"speed":3}'
expect_status 2 "$P" device resync
expect_status 2 "$P" device resync --all --rate fast
expect_call 202 POST /devices/000e08aabb71/actions '{"action":"resync"}'
job=$(jq_py 'j["id"]')
expect_call 200 GET "/jobs/$job"
expect_call 404 GET /jobs/99999
expect_call 200 GET /audit
expect_contains "$BODY" '"device.resync"' "actions are audited"
expect_eq "$(metric 'provisor_sip_notify_total{outcome="ok"}')" 1 "ok in /metrics"
expect_eq "$(metric 'provisor_sip_notify_total{outcome="refused"}')" 1 "refused in /metrics"

# --- kept in the store: a restart forgets nothing; lists are paged ---
wait_for 20 "the API's job finished" bash -c \
  "curl -sS -H 'Authorization: Bearer $TOKEN' '$API/jobs/$job' | grep -q '\"finished\": *true'"
serve_stop
serve_start srv2 --tftp off --https off --sip-outbound-proxy "127.0.0.1:$PROXY_PORT" \
  --sip-timeout-ms 2000 --sip-retries 0
expect_status 0 "$P" job list --json
expect_eq "$(py '[(x["id"], x["action"]) for x in j][-4:]' <"$T/.out")" \
  "[(4, 'resync'), (3, 'report-request'), (2, 'reboot'), (1, 'resync')]" "every job, newest first"
expect_status 0 "$P" job show 1 --json
expect_eq "$(py 'j["outcomes"]["ok"], j["finished"], j["devices"][0]["via"], j["actor"]' <"$T/.out")" \
  "1 True proxy token:cli-local" "job 1 after the restart, with its device's outcome"
expect_call 200 GET "/jobs?limit=2"
expect_eq "$(jq_py '[x["id"] for x in j["items"]], j["next"]')" "([$job, 4], '4')" "a page of jobs"
expect_call 200 GET "/jobs?limit=2&after=4"
expect_eq "$(jq_py '[x["id"] for x in j["items"]]')" "[3, 2]" "the next page"
expect_call 200 GET "/jobs/2/devices?limit=1"
expect_eq "$(jq_py '[(d["mac"], d["outcome"], d["status"]) for d in j["items"]]')" \
  "[('000e08aabb71', 'refused', 403)]" "a job's devices"
expect_call 200 GET /devices/00:0e:08:aa:bb:71/actions
expect_eq "$(jq_py '[(d["job"], d["outcome"]) for d in j["items"]][-3:]')" \
  "[(3, 'timeout'), (2, 'refused'), (1, 'ok')]" "one device's outcomes, newest first"
expect_call 404 GET /jobs/99999/devices
expect_call 404 PATCH "/accounts/nosuch?notify=1" '{"customer":"x"}'
expect_status 0 "$P" job show 2 # a job whose device refused: shown, exit 0

# --- NOTIFY over TCP ([sip] tcp): SIPp as the proxy's side on a TCP socket ---
serve_stop
PROXY_PORT=$(free_port tcp)
serve_start srv3 --tftp off --https off --sip-outbound-proxy "127.0.0.1:$PROXY_PORT" \
  --sip-tcp yes --sip-timeout-ms 4000 --sip-retries 0
wait_log "$T/srv3.log" "proto=sip addr=[^ ]* transport=tcp"
UAS_T=t1 UAS_SS=t uas tcp 1001 s3cret resync
expect_status 0 "$P" device resync 000e08aabb71 --wait --json
expect_eq "$(py 'j["devices"][0]["outcome"], j["devices"][0]["status"], j["devices"][0]["challenged"]' <"$T/.out")" \
  "ok 200 True" "NOTIFY and its authenticated retry over one TCP connection"
wait "$UAS_PID" || fail "SIPp over TCP: $(tail -c 1500 "$T/tcp.out")"
ok
grep -q "SIP/2.0/TCP" "$T/tcp.out" 2>/dev/null || grep -q "sip.notify.done .*outcome=ok" "$T/srv3.log" ||
  fail "no NOTIFY over TCP"
ok
done_ok
