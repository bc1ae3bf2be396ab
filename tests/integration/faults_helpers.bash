# faults_helpers.bash — sourced by tests/integration/faults_*.sh after lib.sh: waiting for a
# condition, and kill -9 of a server while a phone fetches its profile in a loop.
# (Not a .sh file, so CTest does not run it as a test of its own.)

# wait_for SECONDS WHAT CMD... — polls CMD every 0.1 s until it succeeds (bounded).
wait_for() {
  local limit=$1 what=$2 i=0
  shift 2
  until "$@"; do
    i=$((i + 1))
    [ $i -le $((limit * 10)) ] || fail "waited ${limit}s for $what"
    sleep 0.1
  done
}

# kill9_under_fetches PID URL COUNT_ROWS — fetches URL with curl in a loop (one request at a
# time, each status in $T/codes), kills PID with -9 once 30 profiles arrived, and checks that
# COUNT_ROWS (a command printing the phone's profile.served rows) grew by at least the number
# of profiles the phone received and by at most one more (the answer the kill cut off).
kill9_under_fetches() {
  local pid=$1 url=$2 count_rows=$3 before got rows loop
  before=$($count_rows)
  : >"$T/codes"
  (for i in $(seq 1 2000); do
    curl -s -o /dev/null -w '%{http_code}\n' "$url" >>"$T/codes"
  done) &
  loop=$!
  PV_CLEANUP+=("kill $loop 2>/dev/null")
  _fetched() { [ "$(grep -c '^200$' "$T/codes")" -ge 30 ]; }
  wait_for 30 "30 fetches before the kill" _fetched
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  _refused() { grep -q '^000$' "$T/codes"; }
  wait_for 10 "the fetch loop to see the server gone" _refused
  kill "$loop" 2>/dev/null || true
  wait "$loop" 2>/dev/null || true
  got=$(grep -c '^200$' "$T/codes")
  rows=$(($($count_rows) - before))
  echo "kill -9: the phone received $got profiles, the audit has $rows rows for them" >&2
  [ "$rows" -ge "$got" ] && [ "$rows" -le $((got + 1)) ] ||
    fail "the phone received $got profiles, the audit has $rows rows"
  ok
}
