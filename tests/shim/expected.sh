#!/usr/bin/env bash
# Runs a program under the shim only (LD_PRELOAD on each backend) and checks it against what is
# written down next to its source, for behaviour a native run cannot show: a deadlock reported
# instead of hanging, a close that wakes a blocked reader.
#   PROGRAM.out     expected stdout, byte for byte
#   PROGRAM.status  expected exit status
#   PROGRAM.stderr  (optional) extended regular expressions, one per line, each must match a
#                   line of stderr
#
#   tests/shim/expected.sh BUILD_DIR SOURCE_DIR PROGRAM
set -u

if [[ $# -ne 3 ]]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR PROGRAM" >&2
  exit 2
fi
build=$1
sources=$2
program=$3
name=$(basename "$program")
preload=$build/shim/libcogent_preload.so
for f in "$preload" "$program" "$sources/$name.out" "$sources/$name.status"; do
  [[ -e $f ]] || { echo "missing: $f" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
expected_status=$(cat "$sources/$name.status")

for backend in uring epoll; do
  COGENT_BACKEND=$backend LD_PRELOAD=$preload timeout 60 "$program" \
    >"$work/$backend.out" 2>"$work/$backend.err"
  status=$?
  if ! cmp -s "$sources/$name.out" "$work/$backend.out"; then
    echo "FAIL $backend: stdout differs from $name.out" >&2
    diff -u "$sources/$name.out" "$work/$backend.out" | sed 's/^/  /' >&2
    failed=1
  fi
  if [[ $status != "$expected_status" ]]; then
    echo "FAIL $backend: exit status $status, expected $expected_status" >&2
    failed=1
  fi
  if [[ -e $sources/$name.stderr ]]; then
    while IFS= read -r pattern; do
      [[ -z $pattern ]] && continue
      if ! grep -Eq -- "$pattern" "$work/$backend.err"; then
        echo "FAIL $backend: no stderr line matches: $pattern" >&2
        failed=1
      fi
    done <"$sources/$name.stderr"
  fi
  if [[ $failed -ne 0 && -s $work/$backend.err ]]; then
    echo "  $backend stderr:" >&2
    sed 's/^/    /' "$work/$backend.err" >&2
  fi
done

[[ $failed -eq 0 ]] && echo "$name: as expected under the shim on both backends"
exit $failed
