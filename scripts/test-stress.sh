#!/usr/bin/env bash
# make test-stress — the whole suite on a machine that is busy with something else: two busy
# loops (each one core's worth of work, bounded by PV_STRESS_SECONDS, default 3600) run beside
# `ctest`, as on a freshly started CI machine whose cores are shared. Waits in the tests are
# conditions with deadlines (tests/integration/lib.sh wait_for), so they pass; a test that
# counts on timing fails here first.
#   scripts/test-stress.sh BUILD_DIR [JOBS]
set -uo pipefail
build=${1:-build}
jobs=${2:-$(nproc)}
seconds=${PV_STRESS_SECONDS:-3600}

busy=()
stop_busy() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${busy[@]}"; do wait "$pid" 2>/dev/null; done
  busy=()
}
trap stop_busy EXIT
for _ in 1 2; do
  timeout "$seconds" sh -c 'while :; do :; done' &
  busy+=("$!")
done
echo "test-stress: busy loops ${busy[*]} (at most ${seconds}s each) beside ctest -j $jobs" >&2

cd "$build" && ctest --output-on-failure --no-label-summary -j "$jobs" --timeout 600
rc=$?
stop_busy
exit $rc
