#!/usr/bin/env bash
# fuzz_long.sh [BUILD] — `make fuzz-long`: every libFuzzer target of BUILD/fuzz/ (built with
# ASan+UBSan, CMakeLists.txt) for FUZZ_SECONDS (default 600) from its committed corpus
# tests/fuzz/corpus/<parser>/, one after the other (the machine may be shared). New inputs are
# then merged into that corpus with libFuzzer's -merge=1, which keeps only inputs that add
# coverage: what is left to `git add` is the minimised set. A crash, leak or sanitizer report
# stops that target, leaves its input in BUILD/fuzz-artifacts/<parser>/ and makes the exit
# status 1. FUZZ_ONLY="import rule" runs only those targets. Not part of `make test`.
set -euo pipefail
build=${1:-build}
seconds=${FUZZ_SECONDS:-600}
src=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bin in "$build"/fuzz/fuzz_*; do
  parser=$(basename "$bin")
  parser=${parser#fuzz_}
  if [ -n "${FUZZ_ONLY:-}" ] && [[ " $FUZZ_ONLY " != *" $parser "* ]]; then continue; fi
  corpus=$src/tests/fuzz/corpus/$parser
  work=$build/fuzz-long/$parser
  art=$build/fuzz-artifacts/$parser/
  log=$build/fuzz-long/$parser.log
  mkdir -p "$corpus" "$work" "$art"
  before=$(find "$corpus" -type f | wc -l)
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$art" "$work" "$corpus" >"$log" 2>&1; then
    echo "fuzz-long: $parser FAILED after $(grep -c '' "$log") log lines: $log, inputs in $art"
    status=1
    continue
  fi
  "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$corpus" "$work" >>"$log" 2>&1
  after=$(find "$corpus" -type f | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | head -1)
  echo "fuzz-long: $parser ${seconds}s, ${execs:-?} runs, corpus $before -> $after files"
done
[ $status = 0 ] && echo "fuzz-long: new corpus entries, if any: git status tests/fuzz/corpus"
exit $status
