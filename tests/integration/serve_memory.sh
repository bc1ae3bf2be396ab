#!/usr/bin/env bash
# The server's memory under HTTPS load stays bounded (issue 4, "Server memory under load" in
# docs/benchmarks.md). `provisor serve` (2 workers, client certificates required, each phone's
# own encrypted profile rendered from the store) gets rounds of bounded load from
# bench/https_load: every request a new connection and a full TLS handshake with a phone
# certificate. VmRSS is read after each round; the growth between round 3 (caches, per-thread
# malloc arenas and the job metrics' label sets warm: round 2 was seen still settling by a
# megabyte or two) and the last round must stay under twice a per-handshake budget, and the
# smallest growth of one round under the budget itself (a leak grows every round; a malloc
# arena or a higher peak of connections in flight on a busy machine is one round's step):
#
#   - tickets off: every handshake adds a session to the server's session cache (bounded in
#     count, 20 000 by default). Kept DER-encoded it costs ~1 KB; OpenSSL's own cache cost
#     ~6.8 KB (the phone's certificate decoded) and a leak of a connection's buffers costs
#     more: the budget is 2.5 KB per handshake.
#   - tickets on (the default): TLS 1.3 keeps nothing per session, so RSS must plateau: the
#     budget is 0.5 KB per handshake (a leak of any per-connection object shows).
#
# RSS is a page count, not a time: the check holds on a loaded machine. Under ASan (PV_SAN=ON)
# the allocator keeps freed memory in quarantine and RSS says nothing about ours, so that build
# checks the answers and a leak-free exit (LeakSanitizer) only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/serve_helpers.bash"

BUILD=${PV_BUILD:?PV_BUILD must name the build directory}
LOAD="$BUILD/https_load"
SEED="$BUILD/seed_store"
if [ ! -x "$LOAD" ] || [ ! -x "$SEED" ]; then fail "$LOAD and $SEED are built with the project (ninja)"; fi
case "${PV_SAN:-OFF}" in
[Oo][Nn] | 1 | [Tt][Rr][Uu][Ee] | [Yy][Ee][Ss]) san=1 ;;
*) san=0 ;;
esac
[ $san = 0 ] || export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"

ROUNDS=6
WARM=3 # rounds before the baseline
PER_ROUND=1000
[ $san = 0 ] || PER_ROUND=300 # ASan is ~3x slower and RSS is not checked there
D="$T/data"
serve_ports
serve_start first --data-dir "$D"
serve_stop
# 200 devices with confirmed keys and secret directories, 200 phone certificates (demo CA).
"$SEED" seed "$D" 200 200 "$T/out" >"$T/seed.json" || fail "seed_store: $(cat "$T/seed.json")"
ok

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVE_PID/status"; }

# rounds NAME BUDGET_BYTES_PER_HANDSHAKE SERVE_ARGS...
rounds() {
  local name=$1 budget=$2 r out answered rss2=0 rss prev=0 step min_step=
  shift 2
  serve_start "$name" --data-dir "$D" --workers 2 --client-cert required \
    --limits-max-per-source 1000 --limits-max-connections 1000 "$@"
  for r in $(seq $ROUNDS); do
    # The load client is a tool, not under test: LeakSanitizer watches the server only.
    out=$(ASAN_OPTIONS=detect_leaks=0 "$LOAD" -p "$HTTPS_PORT" -t "$T/out/targets.txt" -C "$T/out/phones" -a "$D/tls/ca.pem" \
      -c 8 -d 25 -n $PER_ROUND) || fail "$name round $r: https_load: $out"
    answered=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ok"])' "$out")
    expect_eq "$answered" $PER_ROUND "$name round $r: profiles answered 200 ($out)"
    rss=$(rss_kb)
    echo "  $name round $r: VmRSS ${rss} kB"
    [ "$r" = $WARM ] && rss2=$rss
    if [ "$r" -gt $WARM ]; then # the smallest growth of a round after the baseline
      step=$((rss - prev))
      [ -n "$min_step" ] && [ "$min_step" -le "$step" ] || min_step=$step
    fi
    prev=$rss
  done
  expect_eq "$(metric 'provisor_tls_handshakes_total{kind="full"}')" $((ROUNDS * PER_ROUND)) \
    "$name: every connection a full handshake"
  local handshakes=$(((ROUNDS - WARM) * PER_ROUND))
  local limit=$((rss2 + budget * handshakes / 1024))
  if [ $san = 0 ]; then
    # A leak grows RSS in every round; a one-off step (a malloc arena, more connections in
    # flight at once on a busy machine) in one round only. So the smallest round's growth is
    # held to the budget, and the whole growth to twice it.
    [ $((min_step * 1024)) -le $((budget * PER_ROUND)) ] || fail "$name: VmRSS grew by at least \
${min_step} kB in every round after round $WARM ($((min_step * 1024 / PER_ROUND)) bytes per handshake, budget $budget)"
    ok
    limit=$((rss2 + 2 * budget * handshakes / 1024))
    [ "$rss" -le "$limit" ] || fail "$name: VmRSS grew from ${rss2} kB after round $WARM to ${rss} kB \
after round $ROUNDS ($(((rss - rss2) * 1024 / handshakes)) bytes per handshake, twice the budget $budget)"
    ok
  fi
  serve_stop # under ASan: exit 0 means LeakSanitizer found nothing
}

rounds tickets_off 2560 --tls-session-tickets no
rounds tickets_on 512

# The bound itself ([https] session_cache): room for 3 sessions, 5 full handshakes (TLS 1.2,
# whose session-id resumption openssl s_client shows plainly): the oldest is gone, the newest
# resumes; with 0, nothing resumes without tickets.
# resumed N — "Reused" or "New" for the saved session of phone N.
resumed() {
  printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -tls1_2 \
    -cert "$T/out/phones/$1.pem" -CAfile "$D/tls/ca.pem" -sess_in "$T/s$1.pem" -ign_eof 2>&1 |
    awk -F, '/^(Reused|New),/ { print $1; exit }'
}
if "$PV_BIN" serve --help | grep -q -- '--tls-session-cache'; then
  for cap in 3 0; do
    serve_start "cache$cap" --data-dir "$D" --client-cert required --tls-session-tickets no \
      --tls-session-cache $cap
    for i in 0 1 2 3 4; do
      printf 'GET / HTTP/1.0\r\n\r\n' | openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -tls1_2 \
        -cert "$T/out/phones/$i.pem" -CAfile "$D/tls/ca.pem" -sess_out "$T/s$i.pem" -ign_eof \
        >/dev/null 2>&1 || fail "s_client: handshake $i"
    done
    expect_eq "$(resumed 0)" New "session cache of $cap: the oldest session"
    expect_eq "$(resumed 4)" "$([ $cap = 0 ] && echo New || echo Reused)" \
      "session cache of $cap: the newest session"
    serve_stop
  done
else
  echo "  (this build has no --tls-session-cache: the bound of the session cache is not checked)"
fi
done_ok
