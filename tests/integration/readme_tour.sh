#!/usr/bin/env bash
# The README's "A short tour", run as written (issue 10): the block between the markers
# `<!-- readme_tour: begin -->` and `<!-- readme_tour: end -->` of README.md is extracted
# and its lines run in order in one shell, so the README and this test cannot drift.
#
# How it stays literal on a machine where other tests run:
# - it runs in a network namespace of its own (`unshare -rn`, loopback only), so the tour's
#   default ports (6969, 8080, 8443, 8081, 8444, 8880, the phone's SIP 5070) are free whatever
#   else runs;
# - it runs in a fresh directory $T/tour with `build/provisor` linked to the binary under test
#   and `tests` linked to the checkout's tests/, so `B=build/provisor` and relative paths hold.
# The one value it replaces in the commands: `/srv/provisor` (the PostgreSQL line's --data-dir,
# a path on the host) -> $T/srv-provisor. A line ending in `&` runs in the background;
# the next line waits until it is ready: a `serve` until the admin /healthz answers, a `phone`
# until its --web address answers. Every other line must exit 0.
# Then it checks what the tour promises: the phone bound by its code and fetched its encrypted
# profile (SEC-PRV-2), the fleet's 1000 phones all provisioned with progress shown, nothing
# left by the failed PostgreSQL start, no plaintext password in the store.
. "$(dirname "$0")/lib.sh"

if [ -z "${PV_TOUR_NETNS:-}" ]; then
  if ! unshare -rn true 2>/dev/null; then
    echo "skipped: readme_tour needs a network namespace of its own (unshare -rn)"
    exit 0
  fi
  PV_TOUR_NETNS=1 exec unshare -rn bash "$0" "$@"
fi
ip link set lo up

W="$T/tour"
mkdir -p "$W/build"
ln -s "$PV_BIN" "$W/build/provisor"
ln -s "$PV_SRC/tests" "$W/tests"

# --- the block, as a script: each line followed by its check ---------------------------------
python3 - "$PV_SRC/README.md" "$T/srv-provisor" >"$T/tour.bash" <<'PY'
import re, shlex, sys
text = open(sys.argv[1]).read()
m = re.search(r"<!-- readme_tour: begin -->\s*```sh\n(.*?)\n```\s*<!-- readme_tour: end -->", text, re.S)
if not m:
    sys.exit("README.md: no block between <!-- readme_tour: begin --> and <!-- readme_tour: end -->")
lines, pending = [], ""
for raw in m.group(1).split("\n"):
    pending += raw
    if pending.endswith("\\"):
        pending = pending[:-1] + " "
        continue
    if pending.strip() and not pending.strip().startswith("#"):
        lines.append(pending)
    pending = ""
print("set -u")
print('tour_fail() { echo "TOUR LINE FAILED ($2): $1" >&2; exit 1; }')
print('tour_wait() {  # URL PID LINE: until URL answers, or the process died, or 60 s')
print('  for _ in $(seq 600); do curl -s -o /dev/null "$1" && return 0')
print('    kill -0 "$2" 2>/dev/null || tour_fail "$3" "exited before it was ready"; sleep 0.1; done')
print('  tour_fail "$3" "not ready after 60 s"; }')
for n, line in enumerate(lines, 1):
    line = line.replace("/srv/provisor", sys.argv[2])
    quoted = shlex.quote(line)
    print(f"echo {shlex.quote('+ ' + line)}")
    if line.rstrip().endswith("&"):
        print(line)
        print(f"echo $! >> bg.pids")
        web = re.search(r"--web (\S+)", line)
        url = f"http://{web.group(1)}/" if web else "http://127.0.0.1:8081/healthz"
        print(f"tour_wait {url} $! {quoted}")
    else:
        print(line)
        print(f"rc=$?; [ $rc -eq 0 ] || tour_fail {quoted} \"exit status $rc\"")
print("echo TOUR DONE")
PY
[ "$(grep -c '^echo ' "$T/tour.bash")" -ge 20 ] || fail "the tour block has too few lines: $(cat "$T/tour.bash")"
ok

PV_CLEANUP+=('[ -f "$W/bg.pids" ] && kill $(cat "$W/bg.pids") 2>/dev/null')
rc=0
(cd "$W" && unset PROVISOR_DATA PROVISOR_ADMIN_URL PROVISOR_TOKEN &&
  bash "$T/tour.bash" >"$T/tour.out" 2>"$T/tour.err") || rc=$?
[ $rc -eq 0 ] && grep -q '^TOUR DONE' "$T/tour.out" ||
  fail "the tour stopped (exit $rc): $(tail -c 3000 "$T/tour.err"); stdout: $(tail -c 1500 "$T/tour.out")"
ok

# --- what the tour promises ------------------------------------------------------------------
cd "$W"
[ -s provisor-data/tls/ca.pem ] || fail "no data directory"; ok
[ ! -e "$T/srv-provisor" ] || fail "the failed PostgreSQL start left $T/srv-provisor"; ok
expect_contains "$(cat "$T/tour.err")" "serve: " "the PostgreSQL start says why it failed"
expect_contains "$(cat phone.xml)" "<Password_1_>s3cret</Password_1_>" "the rendered profile"
expect_contains "$(cat phone.xml)" "<Display_Name_1_>Reception</Display_Name_1_>" "the account's display name, as the portal edits it"
# serve's banner names the people's pages, where a new user goes next
expect_contains "$(cat "$T/tour.out")" "console http://127.0.0.1:8081/" "serve names the console"
expect_contains "$(cat "$T/tour.out")" "portal  https://127.0.0.1:8444/" "serve names the portal"
# the push: the phone accepted the NOTIFY (--wait exits 1 otherwise) and resynced because of it
expect_contains "$(cat "$T/tour.out")" "resync: 1/1 done, ok 1" "device resync --wait reports the outcome"
expect_eq "$("$PV_BIN" job list --json | python3 -c 'import json,sys; print([j["subject"] for j in json.load(sys.stdin) if j["action"] == "resync"])')" \
  "['000e08abcdef']" "the job of a resync of one MAC is named after it"
# the phone: bound by its code, then its encrypted per-device profile (spec 12.2)
state=""
deadline=$((SECONDS + 90))
while [ $SECONDS -lt $deadline ]; do
  state=$("$PV_BIN" phone status --state-dir ./phone 2>/dev/null | sed -n 's/.*<Provisioning_State[^>]*>\(.*\)<.*/\1/p')
  [ "$state" = "SEC-PRV-2" ] && break
  sleep 0.5
done
expect_eq "$state" "SEC-PRV-2" "the tour's phone provisioned by its binding code"
# the fleet: all 1000 provisioned, and it said so while running
expect_contains "$(cat storm/report.txt)" "1000/1000 phones (100.0 %)" "the fleet reached its goal"
expect_contains "$(cat "$T/tour.err")" "fleet: 1000 phones, scenario power-restore" "the fleet says what it runs"
[ -s storm/report.json ] && [ -s storm/plot.svg ] || fail "the fleet report files"; ok
# the core tools
expect_contains "$(cat phone.txt)" "s3cret" "profile convert: the text form"
openssl enc -d -aes-256-cbc -md md5 -k SECRET -in phone.cfg -out "$T/phone.dec" 2>/dev/null ||
  fail "openssl cannot read phone.cfg"
same_file "$T/phone.dec" phone.xml "encrypt then openssl enc -d"
# the secret parameter is sealed at rest
expect_eq "$(sqlite3 provisor-data/provisor.db .dump | grep -c s3cret)" 0 "no plaintext password in the store"
done_ok
