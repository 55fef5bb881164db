#!/usr/bin/env bash
# The toolkit samples (locks, queue, pool, files, sockets) work end to end: each one, on the
# default backend and on epoll, exits 0 and prints the lines that prove its point.
#
#   tests/samples/toolkit.sh SAMPLES_DIR
set -euo pipefail
dir=${1:?usage: toolkit.sh SAMPLES_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

label=""
fail() {
  echo "FAIL ($label): $*" >&2
  echo "--- stdout" >&2
  cat "$work/out" >&2 || true
  echo "--- stderr" >&2
  cat "$work/err" >&2 || true
  exit 1
}

run() {  # run SAMPLE ARGS...: must exit 0 within 30 s; output lands in $work/out and $work/err
  label="$* (backend ${COGENT_BACKEND:-default})"
  local rc=0
  timeout 30 "$dir/$1" "${@:2}" >"$work/out" 2>"$work/err" </dev/null || rc=$?
  [[ $rc -eq 0 ]] || fail "exited with status $rc"
}

expect() {  # expect LINE: stdout has exactly this line
  grep -qxF -- "$1" "$work/out" || fail "no line '$1'"
}

expect_re() {  # expect_re REGEX: some stdout line matches
  grep -qE -- "$1" "$work/out" || fail "no line matching '$1'"
}

expect_concurrency_within() {  # expect_concurrency_within N: downloader had 1..N fetches at once
  local seen
  seen=$(sed -n "s/^max concurrency observed: \\([0-9]*\\) (pool of $1)\$/\\1/p" "$work/out")
  if [[ -z $seen ]] || ((seen < 1 || seen > $1)); then fail "concurrency '$seen' not within 1..$1"; fi
}

line_of() {  # line_of REGEX: the number of the first stdout line matching
  grep -nE -- "$1" "$work/out" | head -n1 | cut -d: -f1
}

# The tree folder_copy copies: nested directories, an empty file, an empty directory, a 20 MiB
# file, small files, and a symlink and a FIFO that it must skip.
src="$work/src"
mkdir -p "$src/a/b/c" "$src/empty_dir" "$src/x y"
head -c $((20 * 1024 * 1024 + 123)) /dev/urandom >"$src/big.bin"
: >"$src/a/empty.txt"
for i in $(seq 1 30); do head -c $((i * 1000 + i)) /dev/urandom >"$src/a/b/file$i"; done
head -c 300000 /dev/urandom >"$src/a/b/c/deep.bin"
echo "hello" >"$src/x y/with space.txt"
ln -s big.bin "$src/link"
mkfifo "$src/a/fifo"
src_files=$(find "$src" -type f | wc -l)
src_bytes=$(find "$src" -type f -printf '%s\n' | awk '{s += $1} END {print s}')

# What downloader serves: file i has (i * 7919 % 50) * 3000 + i bytes.
downloader_bytes=$(awk 'BEGIN {for (i = 0; i < 40; i++) s += (i * 7919 % 50) * 3000 + i; print s}')

for backend in default epoll; do
  if [[ $backend == epoll ]]; then export COGENT_BACKEND=epoll; else unset COGENT_BACKEND; fi

  run sing_and_dance
  [[ $(grep -cE ' sing [0-9]+$' "$work/out") -eq 6 ]] || fail "not 6 sing lines"
  [[ $(grep -cE ' dance [0-9]+$' "$work/out") -eq 6 ]] || fail "not 6 dance lines"
  # Interleaved: the first dance comes before the last sing.
  (($(line_of ' dance 1$') < $(line_of ' sing 6$'))) || fail "sing and dance did not interleave"
  expect "both on one OS thread: yes"

  run deadlock
  expect "deadlock detected"
  expect_re '^  lock cycle: greenlet [0-9]+ holds Lock A and waits for Lock B, held by greenlet [0-9]+, which waits for Lock A$'
  expect "killed both; A locked: no, B locked: no"
  expect "same order: both finished"

  run bank
  expect "10 clerks x 200 operations, opening balance 1000, expected 6000"
  expect_re '^without a lock: balance -?[0-9]+, matched: no \(lost updates\)$'
  expect "with a Lock:    balance 6000, matched: yes"

  run producer_consumer
  expect "produced 300 items, sum 615150"
  expect "consumed 300 items, sum 615150"
  expect "largest queue size seen: 5 (maxsize 5)"
  expect_re '^puts that waited for room: [1-9][0-9]*$'
  expect "queue drained: yes"
  expect "nothing lost: yes"

  for jobs in 1 4 16; do
    dst="$work/dst-$backend-$jobs"
    run folder_copy "$src" "$dst" --jobs "$jobs"
    expect "copied $src_files files, $src_bytes bytes"
    expect "skipped 2 entries that are neither files nor directories"
    grep -qF '100%' "$work/err" || fail "no final progress line on stderr"
    diff -r --exclude=link --exclude=fifo "$src" "$dst" >"$work/diff" || fail "copy differs: $(head "$work/diff")"
    [[ ! -e "$dst/link" && ! -e "$dst/a/fifo" ]] || fail "copied a symlink or a FIFO"
    [[ -d "$dst/empty_dir" ]] || fail "empty directory not created"
    rm -rf "$dst"
  done
  # A missing source is an error on stderr and exit status 1, not a crash.
  label="folder_copy of a missing folder (backend ${COGENT_BACKEND:-default})"
  rc=0
  timeout 30 "$dir/folder_copy" "$work/missing" "$work/nowhere" >"$work/out" 2>"$work/err" || rc=$?
  [[ $rc -eq 1 ]] || fail "exited with status $rc, not 1"
  grep -qF 'folder_copy: ' "$work/err" || fail "no error message"

  run downloader
  expect "fetched 40 files, $downloader_bytes bytes, all checksums ok"
  expect_concurrency_within 8
  run downloader --files 25 --jobs 3
  expect_re '^fetched 25 files, [0-9]+ bytes, all checksums ok$'
  expect_concurrency_within 3

  echo "ok: backend $backend"
done
