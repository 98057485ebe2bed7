#!/usr/bin/env bash
# scripts/fuzz.sh [SECONDS] — builds every libFuzzer target with clang (build-fuzz/) and runs
# each for SECONDS (default 60) on a copy of its committed seed corpus. Prints executions and
# coverage per target; exits non-zero if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
CC=clang CXX=clang++ scripts/configure.sh build-fuzz -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DBULKHEAD_FUZZ=ON -DBULKHEAD_BENCH=OFF
cmake --build build-fuzz -j"${JOBS:-2}" --target fuzz_targets
status=0
summary=()
for bin in build-fuzz/bin/fuzz/fuzz_*; do
  name=${bin##*/fuzz_}
  work=build-fuzz/corpus/$name
  mkdir -p "$work" build-fuzz/artifacts
  cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
  log=build-fuzz/$name.log
  echo "== fuzz $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -artifact_prefix=build-fuzz/artifacts/"$name"- \
       -print_final_stats=1 "$work" >"$log" 2>&1; then
    status=1
    echo "   CRASH: see $log and build-fuzz/artifacts/"
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  summary+=("$name: $execs executions, coverage $cov edges")
done
printf '%s\n' "${summary[@]}"
exit $status
