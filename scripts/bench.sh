#!/usr/bin/env bash
# scripts/bench.sh — runs every Google Benchmark binary in build/bin/bench/ and writes
# JSON + console output to build/bench/. Each benchmark includes its baseline in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/bench
for b in build/bin/bench/bench_*; do
  name=${b##*/}
  echo "== $name"
  "$b" --benchmark_out=build/bench/"$name".json --benchmark_out_format=json | tee build/bench/"$name".txt
done
