#!/usr/bin/env bash
# The fleet on real SIP (spec 5.5, issue 12): 200 `provisor fleet` phones provision in-house
# from `provisor serve` (their manufacturer certificates, then SEC-PRV-2 with a SIP line whose
# User_ID_1_ is the phone's MAC), each one's SIP user agent on its own 127.A.B.C:SIP_PORT
# registers with Kamailio (tests/kamailio/registrar.cfg). `provisor device resync --all --wait`
# sends 200 NOTIFYs through Kamailio; each phone challenges its NOTIFY, the server answers with
# the line's credentials, and the phone resyncs. Then the account switches to direct delivery
# (settings.sip_delivery) and `device resync --account` reaches every phone at the address it
# provisioned from, without Kamailio. Before both, each phone's binding (SEC-PRV-1 → 2) made the
# server send its own check-sync NOTIFY ([sip] notify_after_binding, on by default) once the
# phone registered: a job of actor "server" with an outcome per phone. The fleet's goal
# (--pushes 3): three resyncs per phone, each caused by a NOTIFY it accepted. Covers
# src/fleet/fleet_sip.c and the NOTIFY after a binding (src/server/push.c).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"
need kamailio

N=200
D="$T/data"
export PROVISOR_DATA="$D"
SIP_PORT=$(free_port udp) # every phone's SIP_Port_1_, each on its own loopback address
kamailio_start
serve_ports
serve_start srv --data-dir "$D" --tftp off --workers 1 \
  --sip-outbound-proxy "127.0.0.1:$K_PORT" --sip-timeout-ms 8000 --sip-retries 1 \
  --provisioning-random-delay-s 0 --provisioning-retry-delay 1+1
export PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
P=$PV_BIN
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

"$P" account create fleet --settings '{"lines":[{"line":1,"user":"-","password":"fl33t-pw"}]}' >/dev/null
"$P" params set account:fleet 'User_ID_1_={{mac}}' 'Password_1_={{lines.0.password}}' \
  "Proxy_1_=127.0.0.1:$K_PORT" "SIP_Port_1_=$SIP_PORT" 'Register_Expires_1_=600' >/dev/null
python3 - "$N" >"$T/devices.csv" <<'PY'
import sys
print("MAC,model,account")
for i in range(int(sys.argv[1])):  # provisor fleet's MACs: the family's OUI and i
    print("00562b%06x,CP-8841-3PCC,fleet" % i)
PY
expect_status 0 "$P" device import "$T/devices.csv"
expect_status 0 "$P" fleet certs --count $N --out "$T/certs" --mix mpp \
  --ca-cert "$D/manufacturer/demo-ca.pem" --ca-key "$D/manufacturer/demo-ca.key"

"$P" fleet run --scenario push --pushes 3 --phones $N --mix mpp --random-delay 0 --period 1 \
  --duration 300 --server "http://127.0.0.1:$HTTP_PORT" --ca "$D/tls/ca.pem" \
  --certs "$T/certs" --sip "$SIP_PORT" --json >"$T/fleet.json" 2>"$T/fleet.err" &
FLEET_PID=$!
PV_CLEANUP+=("kill $FLEET_PID 2>/dev/null")

provisioned() {
  [ "$("$P" device status --json | py 'j["by_state"].get("SEC-PRV-2", 0)')" = "$N" ]
}
wait_until 120 "every phone provisioned (SEC-PRV-2)" provisioned
registered() { [ "$(grep -o 'registered sip:[0-9a-f]*@' "$T/kamailio.log" | sort -u | wc -l)" -ge "$N" ]; }
wait_until 60 "every phone registered with Kamailio" registered

# --- the server's own NOTIFY after each binding: no one asked for it ---
TOKEN=$(cat "$D/cli-token")
bound_outcomes() { # the check-sync jobs' outcomes, summed: "ok total pending-jobs actors"
  python3 - "$PROVISOR_ADMIN_URL/api/v1" "$TOKEN" <<'PY'
import json, sys, urllib.request
api, token = sys.argv[1], sys.argv[2]
def get(path):
    req = urllib.request.Request(api + path, headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req, timeout=10))
ok = total = running = 0; actors = set(); after = ""
while True:
    page = get("/jobs?limit=200" + ("&after=" + after if after else ""))
    for j in page["items"]:
        if j["action"] == "check-sync":
            ok += j["outcomes"]["ok"]; total += j["total"]; running += not j["finished"]
            actors.add(j["actor"])
    if not page["next"]:
        break
    after = page["next"]
print(ok, total, running, sorted(actors))
PY
}
bound_done() { set -- $(bound_outcomes); [ "$1" = "$N" ] && [ "$3" = 0 ]; }
# NOTIFY transactions Kamailio relayed (a UDP retransmission, when a busy phone answers late, is
# logged again with the same Call-ID and CSeq: counted once)
relayed() { grep -o 'relay NOTIFY [^ ]* cid=[^ ]* cseq=[0-9]*' "$T/kamailio.log" | sort -u | wc -l; }
wait_until 120 "every phone's NOTIFY after its binding answered 200" bound_done
expect_eq "$(bound_outcomes)" "$N $N 0 ['server']" "one check-sync per bound phone, sent by the server"
expect_eq "$(relayed)" "$((N * 2))" "each went through Kamailio, challenged"
expect_eq "$("$P" audit list --actor server --json | py 'sorted({x["action"] for x in (j["items"] if isinstance(j, dict) else j)})')" \
  "['device.check-sync']" "audited as the server's"

# --- through the proxy: challenged by each phone, answered with its line's credentials ---
expect_status 0 "$P" device resync --all --rate 200/s --wait --timeout 120 --json
expect_eq "$(py 'j["outcomes"]["ok"], j["total"], {d["via"] for d in j["devices"]}, all(d["challenged"] for d in j["devices"])' <"$T/.out")" \
  "$N $N {'proxy'} True" "every phone answered 200 through Kamailio"
expect_eq "$(relayed)" "$((N * 4))" "Kamailio relayed each NOTIFY and its answer to the challenge"

# --- direct: the account's choice; Kamailio sees none of it ---
"$P" account update fleet --settings '{"sip_delivery":"direct"}' >/dev/null
expect_status 0 "$P" device resync --account fleet --rate 200/s --wait --timeout 120 --json
expect_eq "$(py 'j["outcomes"]["ok"], {d["via"] for d in j["devices"]}' <"$T/.out")" \
  "$N {'direct'}" "every phone reached at the address it provisioned from"
expect_eq "$(relayed)" "$((N * 4))" "nothing more through Kamailio"

wait "$FLEET_PID" || fail "fleet: $(tail -5 "$T/fleet.err"; head -c 1500 "$T/fleet.json")"
python3 - "$T/fleet.json" $N <<'PY' || fail "fleet report"
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
assert r["goal"] == "resynced on the server's SIP NOTIFY", r["goal"]
assert r["reached"] == n and r["stopped_by"] == "goal", (r["reached"], r["stopped_by"])
assert r["prov_states"]["SEC-PRV-2"] == n, r["prov_states"]
assert r["cost"]["sip_registered"] == n, r["cost"]
assert r["cost"]["sip_notified"] == n, r["cost"]
PY
ok
done_ok
