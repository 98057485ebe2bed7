# Thin wrapper: the README's two commands are `make demo` and `make test`.
# Each installs its own dependencies (apt-get, idempotent), configures, builds, runs.
JOBS ?= 2
.PHONY: all deps build demo test asan tsan load fuzz bench format clean e2e e2e-smoke e2e-network e2e-gui

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@scripts/configure.sh build
	@cmake --build build -j$(JOBS)

demo: build
	@scripts/demo.sh

test: deps
	@scripts/test.sh

# Real Xen 4.17 + a Debian dom0 in QEMU (TCG): tests/e2e/run.sh (downloads cached in
# ~/.cache/bulkhead-e2e, logs in build-e2e/logs/).
e2e: deps
	@tests/e2e/run.sh full

e2e-smoke: deps
	@tests/e2e/run.sh smoke

e2e-network: deps
	@tests/e2e/run.sh network

e2e-gui: deps
	@tests/e2e/run.sh gui

asan: deps
	@scripts/configure.sh build-asan -DBULKHEAD_SANITIZE=ON -DBULKHEAD_BENCH=OFF
	@cmake --build build-asan -j$(JOBS)
	@cd build-asan && ctest --output-on-failure -j$(JOBS) -LE load

tsan: deps
	@scripts/configure.sh build-tsan -DBULKHEAD_TSAN=ON -DBULKHEAD_BENCH=OFF
	@cmake --build build-tsan -j$(JOBS) --target concurrency_tests
	@cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest --output-on-failure -L concurrency

load: build
	@cd build && ctest --output-on-failure -L load

fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

bench: build
	@scripts/bench.sh

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf build build-asan build-tsan build-fuzz
