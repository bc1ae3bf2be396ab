# lib.sh — sourced by every integration test (tests/integration/*.sh).
#
# CTest runs each script with PV_BIN (the provisor binary), PV_SRC (the source
# tree) and PV_BUILD set. A test makes its files under $T, a fresh directory
# removed on exit, and stops at the first failed check with a message.
set -euo pipefail

: "${PV_BIN:?PV_BIN must name the provisor binary}"
: "${PV_SRC:?PV_SRC must name the source tree}"
T=$(mktemp -d "${TMPDIR:-/tmp}/pv-test.XXXXXX")
PV_CLEANUP=()
pv_cleanup() {
  local rc=$?
  for c in "${PV_CLEANUP[@]+"${PV_CLEANUP[@]}"}"; do eval "$c" || true; done
  rm -rf "$T"
  exit $rc
}
trap pv_cleanup EXIT
CHECKS=0

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { CHECKS=$((CHECKS + 1)); }

# expect_eq GOT WANT MESSAGE
expect_eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; ok; }
# expect_contains HAYSTACK NEEDLE MESSAGE (an empty NEEDLE would assert nothing: refused)
expect_contains() {
  [ -n "$2" ] || fail "$3: expect_contains with an empty needle asserts nothing"
  case "$1" in *"$2"*) ok ;; *) fail "$3: '$2' not in: $1" ;; esac
}
# expect_status WANT COMMAND... — runs the command, checks its exit status
expect_status() {
  local want=$1; shift
  set +e; "$@" >"$T/.out" 2>"$T/.err"; local got=$?; set -e
  [ "$got" = "$want" ] || fail "'$*' exited $got, want $want; stderr: $(head -c 2000 "$T/.err")"
  ok
}
# same_file A B MESSAGE
same_file() { cmp -s "$1" "$2" || fail "$3: $1 and $2 differ"; ok; }

# A free TCP or UDP port on 127.0.0.1 (best effort: the kernel picks one).
free_port() {
  python3 - "$1" <<'PY'
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

# Waiting: a test waits for a condition, never for a time. wait_for polls COMMAND every 0.1 s
# until it succeeds. SECONDS is how long the condition takes at most on a quiet machine; the
# deadline, by the wall clock, is PV_WAIT_FACTOR (default 10) times that, so a machine busy with
# other work (make test-stress) still passes while a hang still fails. PV_WAIT_FACTOR=1 shows
# which waits are slow. WAIT_DIAG, when set, is a command whose output a timeout adds.
# wait_for SECONDS DESCRIPTION COMMAND...
wait_for() {
  local limit=$1 what=$2
  shift 2
  local budget=$((limit * ${PV_WAIT_FACTOR:-10}))
  local deadline=$((SECONDS + budget))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] ||
      fail "after ${budget}s still not: $what${WAIT_DIAG:+ — $(eval "$WAIT_DIAG" 2>&1)}"
    sleep 0.1
  done
}

done_ok() { echo "ok: $(basename "$0" .sh): $CHECKS checks"; }
