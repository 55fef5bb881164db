#!/usr/bin/env bash
# The benchmark runner (bench/cogent-bench) on a short sweep: a correct server gets its rows and
# charts and exit status 0; a server that corrupts bytes or drops connections makes it fail
# loudly (status 1, FAILED on stderr and in the report) while the other rows stay in the report.
#   runner_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
build_dir=$2
work=$(mktemp -d /tmp/cogent-bench-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
run() {  # run OUT_DIR ARGS...: the runner on a tiny sweep of 64 B ping-pong at 4 connections
  local out=$1
  shift
  "$source_dir/bench/cogent-bench" --skip-build --build-dir "$build_dir" --out "$out" \
    --parts echo --workloads pingpong-64 --connections 4 --rounds 2 --duration 0.3 --warmup 0.1 "$@"
}
fail() {
  echo "runner_test: $*" >&2
  exit 1
}

status=0
run "$work/good" --contenders raw_uring,raw_epoll 2>"$work/good.err" || status=$?
[[ $status -eq 0 ]] || { cat "$work/good.err" >&2; fail "a clean sweep exited $status"; }
report=$work/good/RESULTS.md
grep -q '^| raw io_uring loop | 1.00× |$' "$report" || fail "no reference row of ratio 1.00× in $report"
grep -q '^| raw epoll loop | [0-9.]*× ([0-9.]*–[0-9.]*) |$' "$report" ||
  fail "no raw epoll ratio with its range over 2 rounds in $report"
grep -q 'FAIL' "$report" && fail "a clean sweep's report mentions a failure"
for chart in throughput efficiency p99; do
  grep -q '<svg' "$work/good/charts/$chart.svg" || fail "no SVG chart $chart"
done

for mode in corrupt drop; do
  status=0
  run "$work/$mode" --contenders raw_uring \
    --server "lossy=python3 $source_dir/tests/bench/lossy_echo.py --$mode" 2>"$work/$mode.err" ||
    status=$?
  [[ $status -eq 1 ]] || { cat "$work/$mode.err" >&2; fail "--$mode: exit status $status, not 1"; }
  grep -q 'FAILED: ping-pong, 64 B, 4 conns, lossy (round 2)' "$work/$mode.err" &&
    grep -q '^  lossy at 4 connections, pingpong-64: loadgen status 1' "$work/$mode.err" || {
    cat "$work/$mode.err" >&2
    fail "--$mode: no FAILED line naming the server, or no summary of failures, on stderr"
  }
  expected="4 mismatches (loadgen: connection [0-3], message 3: byte 8 is"  # byte 200 = 3 × 64 + 8
  [[ $mode == drop ]] && expected="short connection"
  grep -q "lossy at 4 connections.*$expected" "$work/$mode/RESULTS.md" ||
    fail "--$mode: the report does not say '$expected'"
  grep -q '^| lossy | \*\*FAILED\*\* |$' "$work/$mode/RESULTS.md" ||
    fail "--$mode: the failed server's row is missing from the report"
  grep -q '^| raw io_uring loop | 1.00× |$' "$work/$mode/RESULTS.md" ||
    fail "--$mode: the good server's row is missing"
done
echo "runner_test: passed"
