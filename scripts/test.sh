#!/usr/bin/env bash
# Builds cogent and runs the whole test suite under CTest.
#   bash scripts/test.sh                                # Release-with-debug-info build
#   bash scripts/test.sh --sanitize address,undefined   # or: --sanitize thread
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
if [[ ${1:-} == --sanitize ]]; then sanitize=${2:?--sanitize needs address,undefined or thread}; fi

bash scripts/setup.sh
build=build${sanitize:+-${sanitize//,/-}}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOGENT_SANITIZE="$sanitize" \
  -DCOGENT_BUILD_BENCH="$([[ -z $sanitize ]] && echo ON || echo OFF)" >/dev/null
cmake --build "$build" -j"$(nproc)"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
runner=()
# TSan needs a fixed memory layout; newer kernels randomise more than it tolerates.
[[ $sanitize == thread ]] && runner=(setarch "$(uname -m)" -R)
"${runner[@]}" ctest --test-dir "$build" --output-on-failure -j"$(nproc)"
