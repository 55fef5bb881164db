#!/usr/bin/env bash
# Builds cogent and runs the headline demo: 10,000 greenlets, tasks and OS threads sleeping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target sleepers
./build/samples/sleepers "$@"
