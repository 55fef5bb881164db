#!/usr/bin/env bash
# Runs a plain pthread program natively and under the shim (LD_PRELOAD on each backend, and
# through `cogent run`) and checks that it behaves the same: identical stdout and exit code.
# Under the shim the process must also have had exactly one OS thread while all its threads were
# alive (the program writes its "Threads:" count to the file named by COGENT_TEST_THREADS).
#
#   tests/shim/differential.sh BUILD_DIR PROGRAM [ARGS...]
set -u

if [[ $# -lt 2 ]]; then
  echo "usage: $0 BUILD_DIR PROGRAM [ARGS...]" >&2
  exit 2
fi
build=$1
shift
preload=$build/shim/libcogent_preload.so
launcher=$build/shim/cogent
for f in "$preload" "$launcher" "$1"; do
  [[ -e $f ]] || { echo "missing: $f" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# run NAME COMMAND...: runs with a 60 s limit, keeping stdout, stderr, exit code, thread count.
run() {
  local name=$1
  shift
  COGENT_TEST_THREADS=$work/$name.threads timeout 60 "$@" >"$work/$name.out" 2>"$work/$name.err"
  echo $? >"$work/$name.rc"
}

threads_of() { cat "$work/$1.threads" 2>/dev/null || echo "none"; }

run native "$@"
native_threads=$(threads_of native)
if [[ $native_threads == none || $native_threads -le 1 ]]; then
  echo "FAIL native: expected several OS threads at the reporting point, saw $native_threads" >&2
  failed=1
fi

check() {
  local name=$1
  if ! cmp -s "$work/native.out" "$work/$name.out"; then
    echo "FAIL $name: stdout differs from the native run" >&2
    diff -u "$work/native.out" "$work/$name.out" | sed 's/^/  /' >&2
    failed=1
  fi
  if [[ $(cat "$work/native.rc") != $(cat "$work/$name.rc") ]]; then
    echo "FAIL $name: exit code $(cat "$work/$name.rc"), natively $(cat "$work/native.rc")" >&2
    failed=1
  fi
  local threads
  threads=$(threads_of "$name")
  if [[ $threads != 1 ]]; then
    echo "FAIL $name: $threads OS threads while the program's threads were alive, expected 1" >&2
    failed=1
  fi
  if [[ -s $work/$name.err ]]; then
    echo "  $name stderr:" >&2
    sed 's/^/    /' "$work/$name.err" >&2
  fi
}

for backend in uring epoll; do
  run "preload-$backend" env COGENT_BACKEND=$backend LD_PRELOAD="$preload" "$@"
  check "preload-$backend"
done
run launcher "$launcher" run -- "$@"
check launcher

if [[ $failed -ne 0 ]]; then
  echo "native stdout (exit code $(cat "$work/native.rc")):" >&2
  sed 's/^/  /' "$work/native.out" >&2
  exit 1
fi
echo "$(basename "$1"): identical natively ($native_threads OS threads) and under the shim (1)"
