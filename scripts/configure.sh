#!/usr/bin/env bash
# scripts/configure.sh BUILD_DIR [cmake args...] — configures once, re-runs only when asked
# for different options. Uses Ninja when present.
set -euo pipefail
dir=$1; shift
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
stamp="$dir/.bulkhead-configure-args"
want="$* ${CC:-} ${CXX:-}"
if [ -f "$dir/CMakeCache.txt" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
rm -rf "$dir"
cmake -S . -B "$dir" "${gen[@]}" "$@" >/dev/null
echo "$want" > "$stamp"
