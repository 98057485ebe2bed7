#!/usr/bin/env bash
# The test command (`make test`): builds build/ and build-asan/, runs the suites of every
# module that parses untrusted input under ASan+UBSan, then every suite in build/, then the
# Xen-in-QEMU smoke test (tests/e2e/run.sh smoke: real Xen 4.17, bulkheadd --backend xen, one
# domain, one qvm-run -p). Its downloads (cached in ~/.cache/bulkhead-e2e) are fetched in the
# background while the code compiles. Ends with the smoke's "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}

scripts/configure.sh build
mkdir -p build/logs
tests/e2e/fetch.sh > build/logs/e2e-fetch.log 2>&1 &
fetch=$!
cmake --build build -j"$JOBS"

echo "== ASan+UBSan: suites that parse untrusted input"
scripts/configure.sh build-asan -DBULKHEAD_SANITIZE=ON -DBULKHEAD_BENCH=OFF
cmake --build build-asan -j"$JOBS" --target untrusted_tests
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j"$JOBS" -L untrusted)

echo "== all suites"
(cd build && ctest --output-on-failure -j"$JOBS" -LE load) # the load test: make load

echo "== Xen in QEMU: the e2e smoke (make e2e-smoke)"
if ! wait "$fetch"; then
    tail -n 30 build/logs/e2e-fetch.log
    echo "e2e: the downloads failed (log build/logs/e2e-fetch.log)"
    exit 1
fi
tests/e2e/run.sh smoke
