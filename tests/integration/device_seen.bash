# device_seen.bash — sourced by device_seen_sqlite.sh and device_seen_postgres.sh after lib.sh,
# serve_helpers.bash and api_helpers.bash: the device search by last seen (issue 13 item 1;
# docs/api.md GET /devices, docs/store.md "Last seen") as an operator uses it. Devices are
# imported from a CSV; real phones of `provisor fleet` (scenario in-house, with certificates
# from the server's manufacturer CA) provision themselves — every fetch is the server's own
# last-seen write — then, once the clock has moved on by seconds, three of them resync again
# (a second fleet run); two imported devices never fetch. Ages are whole seconds, so the test
# needs no clock hook: the operator's "not seen for" and "seen within" split the fleet at a
# second between the two waves. (Not a .sh file: CTest does not run it as a test of its own.)

N=8
MACS=() # the fleet's devices, in MAC order (fleet certs numbers them from 00562b000000)
for i in $(seq 0 $((N - 1))); do MACS+=("$(printf '00562b%06x' "$i")"); done
NEVER=(000e08dead01 000e08dead02)

# ds_macs — the MACs of the last body's items, one line, in the order answered.
ds_macs() { jq_py '" ".join(d["mac"] for d in j["items"])'; }

# ds_pages QUERY — every page of GET /devices?QUERY (2 per page): the MACs, one line.
ds_pages() {
  local after="" all="" pages=0
  while :; do
    expect_call 200 GET "/devices?$1&limit=2${after:+&after=$after}" >/dev/null
    all="$all $(ds_macs)"
    after=$(jq_py 'j["next"] or ""')
    pages=$((pages + 1))
    [ -n "$after" ] && [ "$pages" -lt 20 ] || break
  done
  echo $all
}

# ds_fleet PHONES — one wave of the fleet's first PHONES phones, each until it is provisioned.
ds_fleet() {
  expect_status 0 "$PV_BIN" fleet run --scenario in-house --phones "$1" --mix mpp \
    --server "https://127.0.0.1:$HTTPS_PORT" --ca "$D/tls/ca.pem" --certs "$T/certs" \
    --source-addresses off --random-delay 0 --period 2 --duration 120 --report "$T/wave$1"
  expect_contains "$(cat "$T/.out")" "$1/$1 phones" "wave of $1: every phone provisioned"
}

# ds_flow SERVE_ARGS... — the server on its store, the devices, the two waves and the searches.
ds_flow() {
  D="$T/data"
  serve_ports
  # a repeat of a device's recorded answer within seen_interval_s writes no last-seen (docs/
  # provisioning.md "Last seen"): 2 s here, less than the 6 s between the waves, so the second
  # wave's fetches are recorded as a resync a day later would be with the default 60 s
  serve_start serve --data-dir "$D" --tftp off --workers 1 --provisioning-seen-interval-s 2 "$@"
  TOKEN=$(grep -A1 '^Admin token' "$T/serve.out" | tail -1 | tr -d ' ')
  API="http://127.0.0.1:$ADMIN_PORT/api/v1"
  export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT" PROVISOR_TOKEN=$TOKEN
  expect_status 0 "$PV_BIN" fleet certs --count $N --out "$T/certs" --mix mpp \
    --ca-cert "$D/manufacturer/demo-ca.pem" --ca-key "$D/manufacturer/demo-ca.key"
  expect_status 0 "$PV_BIN" account create office
  { echo "MAC,model,account"
    for m in "${MACS[@]}" "${NEVER[@]}"; do echo "$m,CP-8841-3PCC,office"; done
  } >"$T/devices.csv"
  expect_status 0 "$PV_BIN" device import "$T/devices.csv"

  expect_eq "$(ds_pages never_seen=1)" "${NEVER[*]} ${MACS[*]}" "before any fetch: none seen"
  ds_fleet $N
  local wave1_end wave2_start
  wave1_end=$(date +%s)
  # the clock moves on: the first wave's last fetch is at least 6 s old when the second begins
  wait_for 8 "6 s after the first wave" bash -c "[ \$(date +%s) -ge $((wave1_end + 6)) ]"
  wave2_start=$(date +%s)
  ds_fleet 3
  # the split: a second after the first wave; an age is counted back from the server's clock
  # at each request, so it is taken again for each search (the cut may move by up to 4 s
  # while a search pages and still falls between the waves)
  local cut=$((wave1_end + 1))
  age() { echo $(($(date +%s) - cut)); }
  local dead="${MACS[*]:3}" fresh="${MACS[*]:0:3}"
  expect_eq "$(ds_pages "not_seen_for=$(age)s")" "$dead" "not seen for a while: the first wave only"
  expect_eq "$(ds_pages "seen_within=$(age)s")" "$fresh" "seen within a while: the second wave"
  expect_eq "$(ds_pages never_seen=1)" "${NEVER[*]}" "never seen: the two that never fetched"
  expect_eq "$(ds_pages "seen_within=1d")" "${MACS[*]}" "seen within a day: the fleet"
  expect_eq "$(ds_pages "not_seen_for=1d")" "" "not seen for a day: none"
  # with the other filters: the account, a MAC prefix, a state
  expect_eq "$(ds_pages "account=office&not_seen_for=$(age)s&mac_prefix=00562b00000")" \
    "${MACS[*]:3}" "with account and prefix"
  expect_eq "$(ds_pages "state=SEC-PRV-2&seen_within=1h")" "${MACS[*]}" \
    "provisioned and seen within the hour"
  expect_eq "$(ds_pages "state=MFG-RESET&never_seen=1")" "${NEVER[*]}" "never seen, factory state"
  # the answer's last_seen agrees with the split
  expect_call 200 GET "/devices?not_seen_for=$(age)s&limit=100" >/dev/null
  expect_eq "$(jq_py "all(0 < d['last_seen'] < $cut for d in j['items'])")" True "last_seen before the cut"
  expect_call 200 GET "/devices?seen_within=$(age)s&limit=100" >/dev/null
  expect_eq "$(jq_py "all(d['last_seen'] >= $wave2_start for d in j['items'])")" True \
    "last_seen in the second wave"
  # what an operator gets wrong is refused with the reason
  expect_call 422 GET "/devices?not_seen_for=7x"
  expect_contains "$BODY" '"field":"not_seen_for"' "a bad age names its field"
  expect_call 422 GET "/devices?seen_within=0s"
  expect_call 422 GET "/devices?never_seen=1&seen_within=1h"
  expect_call 422 GET "/devices?state=DEAD"
  # the CLI's filters are the API's
  local out
  out=$("$PV_BIN" device list --not-seen-for "$(age)s" --json)
  expect_eq "$(python3 -c 'import json,sys; print(" ".join(d["mac"] for d in json.load(sys.stdin)))' <<<"$out")" \
    "$dead" "provisor device list --not-seen-for"
  out=$("$PV_BIN" device list --never-seen)
  expect_contains "$out" "${NEVER[1]}" "provisor device list --never-seen"
  expect_status 1 "$PV_BIN" device list --seen-within soon
  expect_contains "$(cat "$T/.err")" "seen_within" "the CLI says which filter"
}
