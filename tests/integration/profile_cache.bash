# profile_cache.bash — sourced by profile_cache_*.sh after lib.sh and serve_helpers.bash: the
# profile cache's correctness (server/prov_cache.h, docs/provisioning.md "The profile cache")
# as an operator and a phone see it. A phone bound with a code fetches its encrypted profile
# over plain HTTP, again and again (answered from the loops' caches); each change an operator
# makes with the CLI — a parameter at every layer, the account's settings, the device's model
# binding, a key rotation, a firmware rollout admitting the phone then aborted, a release —
# must be in the very next fetch from the node that made it, and within the cache's check
# interval on another node sharing the store (PostgreSQL). (Not a .sh file: CTest does not run
# it as a test of its own.)

MAC=000e08cccccc
# pc_phone — the phone's certificate from the demo manufacturer CA (spec 4.4 subject).
pc_phone() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ph.key" \
    -subj "/ST=$MAC/L=SN$MAC/OU=SPA504G/CN=SEP$MAC" -out "$T/ph.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$T/ext"
  openssl x509 -req -in "$T/ph.csr" -CA "$D/manufacturer/demo-ca.pem" \
    -CAkey "$D/manufacturer/demo-ca.key" -CAcreateserial -days 1 -extfile "$T/ext" \
    -out "$T/ph.pem" 2>/dev/null
}

# pc_bind HTTPS_BASE — the operator's seed and the binding; sets KEY and DIR.
pc_bind() {
  expect_status 0 "$PV_BIN" account create C-7 --customer 'Cache Inc' \
    --settings '{"lines":[{"line":1,"user":"7001"}]}'
  expect_status 0 "$PV_BIN" params set global Proxy_1_=global.example.net
  expect_status 0 "$PV_BIN" params set account:C-7 'User_ID_1_={{lines.0.user}}' --ua ro
  local code
  code=$("$PV_BIN" code create C-7 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
  pc_phone
  curl -sS --cacert "$D/tls/ca.pem" --cert "$T/ph.pem" --key "$T/ph.key" -o "$T/prv1.xml" "$1/init/$code"
  KEY=$(sed -n 's:.*<GPP_SA ua="na">\([0-9a-f]*\)</GPP_SA>.*:\1:p' "$T/prv1.xml")
  DIR=$(sed -n 's:.*<GPP_B ua="na">\([A-Za-z0-9_-]*\)</GPP_B>.*:\1:p' "$T/prv1.xml")
  expect_eq "${#KEY}" 64 "bound: a key in GPP_SA"
}

# pc_fetch BASE — one resync: the profile decrypted with KEY into $T/p.xml; the status code.
pc_fetch() {
  rm -f "$T/p.xml"
  local code
  code=$(curl -sS -o "$T/p.cfg" -w '%{http_code}' "$1/$DIR/$MAC.cfg")
  [ "$code" != 200 ] ||
    openssl enc -d -aes-256-cbc -md md5 -k "$KEY" -in "$T/p.cfg" -out "$T/p.xml" 2>/dev/null ||
    code=undecryptable
  echo "$code"
}

# pc_next BASE TEXT WHAT — the next resyncs (four: each loop of a two-worker node gets some)
# each carry TEXT.
pc_next() {
  local i
  for i in 1 2 3 4; do
    expect_eq "$(pc_fetch "$1")" 200 "$3: resync $i answered"
    expect_contains "$(cat "$T/p.xml")" "$2" "$3: resync $i"
  done
}

# pc_lacks BASE TEXT WHAT — the next resyncs no longer carry TEXT.
pc_lacks() {
  local i
  for i in 1 2 3 4; do
    expect_eq "$(pc_fetch "$1")" 200 "$3: resync $i answered"
    if grep -qF -- "$2" "$T/p.xml"; then fail "$3: resync $i still has $2"; fi
    ok
  done
}

# pc_seen BASE TEXT — true when one resync carries TEXT (for wait_for on another node).
pc_seen() { [ "$(pc_fetch "$1")" = 200 ] && grep -qF -- "$2" "$T/p.xml"; }
pc_gone() { [ "$(pc_fetch "$1")" = 200 ] && ! grep -qF -- "$2" "$T/p.xml"; }

# pc_warm BASE ADMIN_PORT — resyncs until the loops answer from their caches: eight resyncs
# of which at most two (the first on each loop) read the store.
pc_warm() {
  local h0 m0 i
  for i in 1 2 3 4; do pc_fetch "$1" >/dev/null; done
  h0=$(pc_metric "$2" provisor_profile_cache_hits_total)
  m0=$(pc_metric "$2" provisor_profile_cache_misses_total)
  for i in 1 2 3 4 5 6 7 8; do expect_eq "$(pc_fetch "$1")" 200 "warm resync $i"; done
  local h1 m1
  h1=$(pc_metric "$2" provisor_profile_cache_hits_total)
  m1=$(pc_metric "$2" provisor_profile_cache_misses_total)
  [ $((h1 - h0)) -ge 6 ] && [ $((m1 - m0)) -le 2 ] ||
    fail "unchanged phone: $((h1 - h0)) hits, $((m1 - m0)) misses of 8 resyncs (want ≥ 6 hits)"
  ok
}

pc_metric() { # ADMIN_PORT NAME
  curl -sS "http://127.0.0.1:$1/metrics" | awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}

# pc_changes NEAR NEAR_ADMIN FAR — every change made through NEAR's admin API (the CLI's
# PROVISOR_ADMIN_URL) is served by NEAR at the next resync, and by FAR (the same node, or
# another sharing the store) within its check interval.
pc_changes() {
  local near=$1 admin=$2 far=$3 v
  pc_next "$near" '<User_ID_1_ ua="ro">7001</User_ID_1_>' "first profile"
  pc_warm "$near" "$admin"
  [ "$far" = "$near" ] || pc_next "$far" '<User_ID_1_ ua="ro">7001</User_ID_1_>' "the other node"
  local n=0
  # A parameter at each layer, then the account's settings behind a placeholder.
  for scope in global model:SPA504G account:C-7 device:$MAC; do
    n=$((n + 1))
    v="layer$n.example.net"
    expect_status 0 "$PV_BIN" params set "$scope" "Proxy_1_=$v"
    pc_next "$near" "<Proxy_1_>$v</Proxy_1_>" "Proxy_1_ set at $scope"
    [ "$far" = "$near" ] || wait_for 10 "$scope change on the other node" pc_seen "$far" "<Proxy_1_>$v</Proxy_1_>"
    pc_warm "$near" "$admin"
  done
  expect_status 0 "$PV_BIN" account update C-7 --settings '{"lines":[{"line":1,"user":"7002"}]}'
  pc_next "$near" '<User_ID_1_ ua="ro">7002</User_ID_1_>' "account settings"
  [ "$far" = "$near" ] || wait_for 10 "settings on the other node" pc_seen "$far" '<User_ID_1_ ua="ro">7002</User_ID_1_>'
  pc_warm "$near" "$admin"

  # A rotation: the next resync carries the new key (still encrypted with the old one).
  expect_status 0 "$PV_BIN" device rotate-key $MAC
  expect_eq "$(pc_fetch "$near")" 200 "resync after rotate-key"
  local key2 dir2
  key2=$(sed -n 's:.*<GPP_SA ua="na">\([0-9a-f]*\)</GPP_SA>.*:\1:p' "$T/p.xml")
  dir2=$(sed -n 's:.*<GPP_B ua="na">\([A-Za-z0-9_-]*\)</GPP_B>.*:\1:p' "$T/p.xml")
  [ "$key2" != "$KEY" ] && [ "${#key2}" = 64 ] && [ "$dir2" != "$DIR" ] ||
    fail "rotate-key: the next resync carries the old key"
  ok
  [ "$far" = "$near" ] || wait_for 10 "the rotation on the other node" \
    bash -c "curl -sS '$far/$DIR/$MAC.cfg' | openssl enc -d -aes-256-cbc -md md5 -k '$KEY' 2>/dev/null | grep -q '$key2'"
  local old=$DIR
  KEY=$key2 DIR=$dir2
  pc_next "$near" "<GPP_B ua=\"na\">$dir2</GPP_B>" "the new directory (confirms)"
  expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$near/$old/$MAC.cfg")" 404 "the old directory, retired"
  [ "$far" = "$near" ] || wait_for 10 "the old directory retired on the other node" \
    bash -c "[ \"\$(curl -sS -o /dev/null -w '%{http_code}' '$far/$old/$MAC.cfg')\" = 404 ]"
  pc_warm "$near" "$admin"

  # A rollout that admits the phone: its Upgrade_Rule appears; aborted: gone.
  printf 'PVFW version=7.6.2 model=SPA504G\nnew load\n' >"$T/spa-762.bin"
  expect_status 0 "$PV_BIN" firmware upload "$T/spa-762.bin"
  expect_status 0 "$PV_BIN" firmware add spa-762.bin --model SPA504G --version 7.6.2 --kind bin
  expect_status 0 "$PV_BIN" plan set SPA504G --target 7.6.2
  pc_next "$near" "spa-762.bin" "Upgrade_Rule of the model's new plan"
  [ "$far" = "$near" ] || wait_for 10 "the plan on the other node" pc_seen "$far" "spa-762.bin"
  expect_status 0 "$PV_BIN" rollout create r1 --model SPA504G --device $MAC --canary 1 \
    --cohorts 100 --from 7.5.0
  wait_for 20 "the phone admitted" bash -c "'$PV_BIN' rollout devices r1 --json | grep -q '\"admitted\"'"
  pc_next "$near" "spa-762.bin" "Upgrade_Rule of the admitted member"
  [ "$far" = "$near" ] || wait_for 10 "the rule on the other node" pc_seen "$far" "spa-762.bin"
  pc_warm "$near" "$admin"
  expect_status 0 "$PV_BIN" rollout abort r1
  pc_lacks "$near" "spa-762.bin" "rollout aborted"
  [ "$far" = "$near" ] || wait_for 10 "the abort on the other node" pc_gone "$far" "spa-762.bin"
  pc_warm "$near" "$admin"

  # Released (unbound): its directory answers 404 at once.
  expect_status 0 "$PV_BIN" device release $MAC
  expect_eq "$(pc_fetch "$near")" 404 "released: the directory is gone"
  expect_eq "$(pc_fetch "$near")" 404 "released: on every loop"
  [ "$far" = "$near" ] || wait_for 10 "the release on the other node" \
    bash -c "[ \"\$(curl -sS -o /dev/null -w '%{http_code}' '$far/$DIR/$MAC.cfg')\" = 404 ]"
  expect_contains "$(curl -sS "http://127.0.0.1:$admin/metrics")" "provisor_profile_cache_invalidations_total" "cache metrics"
}
