#!/usr/bin/env bash
# One identity decision on every route (issue 11.1, DESIGN 3): a second certificate naming a
# bound phone's MAC — from the same manufacturer CA, so it verifies — gets nothing on /$MA.xml
# (its GPP_SA), the secret directory, reports, firmware or the bootstrap, and cannot re-bind it
# with another account's code; the real phone keeps working. Re-binding a bound, pinned device
# needs `provisor device release` (audited). Strangers without a certificate spend no binding
# budget (issue 11.7): many of them leave binding open for a real phone at the same address.
# And a lost answer (issue 19.3): the same certificate with the same code gets the same
# SEC-PRV-1 profile again; another certificate gets nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

D="$T/data"
serve_ports
serve_start run --data-dir "$D"
P=$PV_BIN
export PROVISOR_DATA="$D" PROVISOR_ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
CA="$D/tls/ca.pem"
S="https://127.0.0.1:$HTTPS_PORT"
H="http://127.0.0.1:$HTTP_PORT"
V=000e08c0ffee

# Certificates from the data directory's demo manufacturer CA (spec 4.4 subject).
phone_cert() { # NAME MAC
  expect_status 0 "$P" phone cert --mac "$2" --model CP-8841-3PCC --data-dir "$D" --out "$T/$1.pem"
}
phone_cert victim "$V"
phone_cert forged "$V" # the same MAC, another key: another fingerprint
phone_cert other 000e08c0ffef
as() { local who=$1; shift; curl -sS --cacert "$CA" --cert "$T/$who.pem" "$@"; }
status_as() { local who=$1; shift; as "$who" -o "$T/out" -w '%{http_code}' "$@"; }
new_code() { "$P" code create "$1" --json | py 'j["code"]'; }

"$P" account create victim-acct >/dev/null
"$P" account create mallory-acct >/dev/null
"$P" params set account:victim-acct 'Password_1_=victim-sip-secret' >/dev/null
C1=$(new_code victim-acct)
C2=$(new_code mallory-acct)

# 11.7: strangers first — many requests without a certificate from this address.
for _ in $(seq 1 40); do
  expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$CA" "$S/init/$(printf '%012d' $RANDOM)")" \
    403 "no certificate: refused before any counter"
done
expect_eq "$(metric 'provisor_bindings_total{outcome="no_certificate"}')" 40 "counted apart"
# The real phone, same address, right after: bound.
expect_eq "$(status_as victim "$S/init/$C1")" 200 "the victim binds"
cp "$T/out" "$T/prv1.xml"
key=$(sed -n 's:.*<GPP_SA ua="na">\([0-9a-f]*\)</GPP_SA>.*:\1:p' "$T/prv1.xml")
dir=$(sed -n 's:.*<GPP_B ua="na">\([A-Za-z0-9_-]*\)</GPP_B>.*:\1:p' "$T/prv1.xml")
expect_eq "${#key}" 64 "key delivered"

# 19.3: the answer was lost; the same certificate with the same code gets it again.
expect_eq "$(status_as victim "$S/init/$C1")" 200 "same certificate, same code: again"
same_file "$T/out" "$T/prv1.xml" "the same SEC-PRV-1 profile"
expect_eq "$(metric 'provisor_bindings_total{outcome="again"}')" 1 "a repeated answer counted"
expect_eq "$(status_as forged "$S/init/$C1")" 403 "another certificate, same code"
expect_eq "$(status_as other "$S/init/$C1")" 403 "another phone, same code"

# 11.1: the forged certificate naming the victim's MAC gets nothing, on every route.
expect_eq "$(status_as forged "$S/$V.xml")" 403 "forged: /\$MA.xml (its GPP_SA)"
if grep -q "$key" "$T/out"; then fail "the key leaked to the forged certificate"; fi
ok
expect_eq "$(status_as forged "$S/$dir/$V.cfg")" 403 "forged: secret directory"
expect_eq "$(status_as forged --data-binary 'x' "$S/report/$V.xml")" 403 "forged: report"
mkdir -p "$D/firmware"
head -c 2000 /dev/urandom >"$D/firmware/fw.bin"
expect_eq "$(status_as victim "$S/firmware/fw.bin")" 200 "victim: firmware"
expect_eq "$(status_as forged "$S/firmware/fw.bin")" 403 "forged: firmware"
expect_eq "$(status_as forged "$S/8841-3PCC.xml")" 403 "forged: bootstrap"
expect_eq "$(status_as forged "$S/init/$C2")" 403 "forged: re-binding with another account's code"
expect_eq "$("$P" device show "$V" --json | py 'j["account"]')" victim-acct "still the victim's"
expect_eq "$(status_as victim "$S/$V.xml")" 200 "the real phone: /\$MA.xml"
expect_eq "$(status_as victim "$S/$dir/$V.cfg")" 200 "the real phone: its profile"
openssl enc -d -aes-256-cbc -md sha256 -k "$key" -in "$T/out" -out "$T/p.xml"
expect_contains "$(cat "$T/p.xml")" "victim-sip-secret" "the real phone decrypts its profile"
expect_eq "$("$P" audit list --json | py 'sum(1 for a in j if a["action"] == "identity.refused")')" \
  5 "refusals audited"

# Re-binding a bound device, even by its own certificate, waits for a release.
expect_eq "$(status_as victim "$S/init/$C2")" 403 "own certificate, new code: release first"
# The server's log says why (the audit keeps refusals sampled: at most 20 rows per action and
# minute per loop, docs/provisioning.md "What the audit guarantees").
released_first_logged() { grep -q "released first" "$T"/*.log; }
wait_for 10 "the server's log says why (released first)" released_first_logged
ok
expect_status 0 "$P" device release "$V"
expect_eq "$("$P" device show "$V" --json | py 'j["account"], j["state"]')" "None SP-CUST" "released"
expect_contains "$("$P" audit list --device "$V")" "device.release" "release audited"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$H/$dir/$V.cfg")" 404 "old directory retired"
expect_eq "$(status_as victim "$S/init/$C2")" 200 "after the release the new code binds"
expect_eq "$("$P" device show "$V" --json | py 'j["account"]')" mallory-acct "bound anew"
expect_status 1 "$P" device release 000e08000000
serve_stop
done_ok
