#!/usr/bin/env bash
# Metrics of the job (issue 17): after a real phone journey — a retail binding through the CLI
# and `provisor phone` to SEC-PRV-2, a wrong code, a refused report, a bootstrap profile, a
# firmware download — /metrics has each family of docs/operations.md with values; the admin
# API is counted by route apart from phone traffic; /healthz and /readyz answer; no label
# carries a MAC or a code. Then contrib/: `promtool check rules` passes on the alert rules, the
# Grafana dashboard is JSON, and every metric the two name is one the server exports.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"
. "$(dirname "$0")/phone_lib.bash"
command -v promtool >/dev/null || fail "promtool is missing (scripts/deps.sh installs prometheus)"

MAC=000e08feed17
D="$T/data"
serve_ports
serve_start run --data-dir "$D"
P=$PV_BIN
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
scrape() { curl -sS "http://127.0.0.1:$ADMIN_PORT/metrics" >"$T/metrics.txt"; }
# value 'NAME{LABELS}' — a sample of the last scrape (labels as rendered), or "none"
value() { awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print "none" }' "$T/metrics.txt"; }
# positive 'NAME{LABELS}' MESSAGE — the sample exists and is above 0
positive() {
  local v; v=$(value "$1")
  awk -v v="$v" 'BEGIN { exit !(v != "none" && v + 0 > 0) }' ||
    fail "$2: $1 = $v; the family: $(grep "^${1%%\{*}" "$T/metrics.txt" | head -8)"
  ok
}
# family NAME MESSAGE — some sample of the family is above 0
family() {
  # (label values may hold spaces: the value is the last field)
  awk -v n="$1" 'index($0, n) == 1 && substr($0, length(n) + 1, 1) ~ /[{ ]/ && $NF + 0 > 0 { found = 1 }
    END { exit !found }' \
    "$T/metrics.txt" || fail "$2: no sample of $1 above 0: $(grep "^$1" "$T/metrics.txt" | head -5)"
  ok
}

expect_eq "$(curl -sS "http://127.0.0.1:$ADMIN_PORT/healthz")" ok "healthz"
expect_eq "$(curl -sS "http://127.0.0.1:$ADMIN_PORT/readyz")" ok "readyz"
scrape
http_before=$(grep -c '^provisor_requests_total{proto="http"' "$T/metrics.txt" || true)

# ---- the journey ----
expect_status 0 "$P" account create bakery --settings '{"lines":[{"line":1,"user":"2001"}]}'
expect_status 0 "$P" params set account:bakery 'User_ID_1_={{lines.0.user}}'
CODE=$("$P" code create bakery --json | py 'j["code"]')
expect_status 0 "$P" phone cert --mac "$MAC" --model CP-8841-3PCC --data-dir "$D" --out "$T/phone.pem"
CA="$D/tls/ca.pem"
H="https://127.0.0.1:$HTTPS_PORT"
# A wrong code first: a binding refused, and why.
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" --cert "$T/phone.pem" \
  "$H/init/000000000000")" 403 "a wrong code is refused"
phone_start p --mac "$MAC" --model CP-8841-3PCC --cert "$T/phone.pem" --key "$T/phone.pem" --ca "$CA"
web "/admin/resync?$H/init/$CODE" >/dev/null
wait_until 60 "the phone in SEC-PRV-2" field_is Provisioning_State SEC-PRV-2
phone_stop
# A factory phone's bootstrap profile, a report nobody signed, a firmware image.
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/8841-3PCC.xml")" \
  200 "the bootstrap profile"
curl -sS -o /dev/null -X PUT --data-binary '<flat-profile/>' \
  "http://127.0.0.1:$HTTP_PORT/report/$MAC.xml" || true
head -c 4096 /dev/urandom >"$T/fw-1.2.3.loads"
expect_status 0 "$P" firmware upload "$T/fw-1.2.3.loads"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/firmware/fw-1.2.3.loads")" \
  200 "a firmware download"

# ---- the families, with values ----
wait_for 5 "the store probe timed" sh -c "curl -sS http://127.0.0.1:$ADMIN_PORT/metrics | grep -q '^provisor_store_duration_seconds_count{op=\"probe\"} [1-9]'"
scrape
positive 'provisor_profiles_served_total{model="CP-8841-3PCC",state="SEC-PRV-1",transport="https"}' \
  "the binding's SEC-PRV-1 profile"
positive 'provisor_profiles_served_total{model="CP-8841-3PCC",state="SEC-PRV-2",transport="http"}' \
  "the encrypted profile (permanent_scheme http)"
family provisor_profiles_served_total "profiles served"
grep -q '^provisor_profiles_served_total{[^}]*state="bootstrap"' "$T/metrics.txt" ||
  fail "no bootstrap profile counted: $(grep '^provisor_profiles_served_total' "$T/metrics.txt")"
ok
positive 'provisor_bindings_total{outcome="bound"}' "a binding"
positive 'provisor_bindings_total{outcome="refused"}' "a refused binding"
family provisor_binding_refusals_total "bindings refused by reason"
positive 'provisor_refusals_total{action="binding.refused",status="403"}' "refusals by action"
positive 'provisor_render_duration_seconds_count' "render time histogram"
expect_eq "$(value provisor_render_errors_total)" 0 "no render error on this journey"
expect_eq "$(value provisor_key_rotations_total)" 0 "no key rotation (rotation_days not reached)"
family provisor_reports_total "reports received or refused"
positive 'provisor_firmware_downloads_total{image="fw-1.2.3.loads"}' "firmware downloads by image"
expect_eq "$(value provisor_firmware_queue_depth)" 0 "nobody waiting for a firmware wave"
positive 'provisor_store_duration_seconds_count{op="probe"}' "store latency: the probe"
positive 'provisor_store_duration_seconds_count{op="commit"}' "store latency: batch commits"
expect_eq "$(value provisor_store_up)" 1 "the store answers"
positive 'provisor_admin_requests_total{method="POST",route="/accounts",status="201"}' \
  "admin API requests by route and status"
positive 'provisor_admin_requests_total{method="GET",route="/metrics",status="200"}' \
  "scrapes are admin requests too"
# Admin calls are not phone traffic: the HTTP series did not gain the admin's requests.
expect_eq "$(grep -c 'status="201"' <(grep '^provisor_requests_total{proto="http"' "$T/metrics.txt") || true)" \
  0 "no 201 of the admin API among phone requests"
[ "$http_before" -ge 0 ] && ok
now=$(date +%s)
for cert in server ca client_ca; do
  t=$(value "provisor_certificate_expiry_timestamp_seconds{cert=\"$cert\"}")
  awk -v t="$t" -v now="$now" 'BEGIN { exit !(t != "none" && t > now) }' ||
    fail "certificate expiry of $cert: $t"
  ok
done
grep -q '^# TYPE provisor_sip_notify_total counter' "$T/metrics.txt" || fail "notify outcomes"; ok
# Bounded labels: no MAC, no code anywhere in the text.
if grep -qiE "$MAC|$CODE|000000000000" "$T/metrics.txt"; then
  fail "a MAC or a code in /metrics: $(grep -iE "$MAC|$CODE" "$T/metrics.txt" | head -3)"
fi
ok

# ---- contrib/ ----
promtool check rules "$PV_SRC/contrib/prometheus/provisor-alerts.yml" >"$T/promtool.out" 2>&1 ||
  fail "promtool check rules: $(cat "$T/promtool.out")"
ok
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"]' \
  "$PV_SRC/contrib/grafana/provisor.json" || fail "the dashboard is not JSON with panels"
ok
exported=$(sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$T/metrics.txt")
named=$(cat "$PV_SRC/contrib/prometheus/provisor-alerts.yml" "$PV_SRC/contrib/grafana/provisor.json" |
  grep -oE 'provisor_[a-z_]+' | sort -u)
[ "$(echo "$named" | wc -l)" -gt 15 ] || fail "contrib/ names too few metrics: $named"; ok
for name in $named; do
  # a family as exported, or a histogram's _bucket, _sum, _count
  grep -qx -e "$name" -e "$(sed -E 's/_(bucket|sum|count)$//' <<<"$name")" <<<"$exported" ||
    fail "contrib/ names $name, which /metrics does not export"
done
ok

serve_stop
done_ok
