#!/usr/bin/env bash
# The test command (`make test`): builds build/ and build-asan/, runs the suites of every
# module that parses untrusted input under ASan+UBSan, then every suite in build/.
# Ends with CTest's summary line of the full run.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}

scripts/configure.sh build
cmake --build build -j"$JOBS"

echo "== ASan+UBSan: suites that parse untrusted input"
scripts/configure.sh build-asan -DBULKHEAD_SANITIZE=ON -DBULKHEAD_BENCH=OFF
cmake --build build-asan -j"$JOBS" --target untrusted_tests
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j"$JOBS" -L untrusted)

echo "== all suites"
cd build
ctest --output-on-failure -j"$JOBS" -LE load # the load test has its own command: make load
