# Thin wrapper: the README's two commands are `make demo` and `make test`.
# Each installs its own dependencies (apt-get, idempotent), configures, builds, runs.
JOBS ?= 2
.PHONY: all deps build demo test asan tsan fuzz bench format clean

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

asan: deps
	@scripts/configure.sh build-asan -DBULKHEAD_SANITIZE=ON -DBULKHEAD_BENCH=OFF
	@cmake --build build-asan -j$(JOBS)
	@cd build-asan && ctest --output-on-failure -j$(JOBS)

tsan: deps
	@scripts/configure.sh build-tsan -DBULKHEAD_TSAN=ON -DBULKHEAD_BENCH=OFF
	@cmake --build build-tsan -j$(JOBS)
	@cd build-tsan && ctest --output-on-failure -L concurrency

fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

bench: build
	@scripts/bench.sh

format:
	@git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf build build-asan build-tsan build-fuzz
