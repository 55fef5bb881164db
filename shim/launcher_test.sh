#!/usr/bin/env bash
# The launcher and the preload library, end to end: cogent --help / info / run, exit codes, the
# exported symbols, and coreutils' sleep cooperating on both backends.
#
#   launcher_test.sh <cogent> <libcogent_preload.so> <bin-to-lib relative path>
set -u
cogent=$1
library=$2
bin_to_lib=$3
failures=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

expect_status() {  # expected, description, command...
  local expected=$1 what=$2
  shift 2
  "$@" >"$scratch/out" 2>"$scratch/err"
  local status=$?
  if [[ $status -ne $expected ]]; then
    fail "$what: exit $status, expected $expected"
    sed 's/^/  | /' "$scratch/out" "$scratch/err"
  else
    echo "ok: $what"
  fi
}

expect_status 0 "cogent --help" "$cogent" --help
grep -q '^usage: cogent run' "$scratch/out" || fail "--help prints the usage on stdout"
expect_status 2 "no command" "$cogent"
expect_status 2 "an unknown command" "$cogent" frobnicate
expect_status 2 "an unknown option" "$cogent" run --frob -- /bin/true
grep -q '^usage:' "$scratch/err" || fail "an unknown option prints the usage on stderr"
expect_status 2 "a bad backend name" "$cogent" run --backend kqueue -- /bin/true
expect_status 2 "a bad threads mode" "$cogent" run --threads fibers -- /bin/true
expect_status 2 "run without a program" "$cogent" run --

expect_status 0 "cogent info" "$cogent" info
grep -Eq '^backend: (uring|epoll) \(' "$scratch/out" || fail "info names the backend"
grep -q "^preload library: $(realpath "$library")\$" "$scratch/out" ||
  fail "info names the preload library"
expect_status 0 "cogent info --backend epoll" "$cogent" info --backend epoll
grep -q '^backend: epoll ' "$scratch/out" || fail "info --backend epoll says epoll"

expect_status 0 "run -- /bin/true" "$cogent" run -- /bin/true
expect_status 0 "run without -- takes the first word as the program" "$cogent" run /bin/true
expect_status 127 "run -- /nonexistent" "$cogent" run -- /nonexistent
expect_status 126 "run -- a file that is not executable" "$cogent" run -- /etc/passwd
expect_status 7 "the program's exit status is the launcher's" "$cogent" run -- sh -c 'exit 7'

expect_status 0 "run sets the environment" env LD_PRELOAD= "$cogent" run --backend epoll \
  --threads native -- sh -c 'echo "$LD_PRELOAD|$COGENT_BACKEND|$COGENT_THREADS"'
[[ $(cat "$scratch/out") == "$library|epoll|native" ]] ||
  fail "LD_PRELOAD, COGENT_BACKEND, COGENT_THREADS: got '$(cat "$scratch/out")'"
expect_status 0 "run prepends to LD_PRELOAD" env LD_PRELOAD="$library" "$cogent" run -- \
  sh -c 'echo "$LD_PRELOAD"'
[[ $(cat "$scratch/out") == "$library:$library" ]] ||
  fail "LD_PRELOAD prepended: got '$(cat "$scratch/out")'"

# Installed layout: the library is found relative to the launcher, before the build tree's.
mkdir -p "$scratch/prefix/bin" "$scratch/prefix/bin/$bin_to_lib"
cp "$cogent" "$scratch/prefix/bin/cogent"
cp "$library" "$scratch/prefix/bin/$bin_to_lib/"
installed=$(realpath "$scratch/prefix/bin/$bin_to_lib/$(basename "$library")")
expect_status 0 "an installed launcher" "$scratch/prefix/bin/cogent" info
grep -q "^preload library: $installed\$" "$scratch/out" ||
  fail "an installed launcher uses the library next to it ($installed)"
expect_status 0 "an installed launcher runs a program" "$scratch/prefix/bin/cogent" run -- /bin/true

# Only the interposed libc names are exported (those the version script lists): no C++, no
# runtime, no liburing or libev.
map=$(dirname "${BASH_SOURCE[0]}")/libcogent_preload.map
allowed=$(sed -n '/global:/,/local:/p' "$map" | sed 's,/\*.*\*/,,g' | tr ' ;' '\n\n' |
  grep -E '^[A-Za-z_*][A-Za-z0-9_*]*$' | grep -v -e '^global$' -e '^local$' | sed 's/\*/.*/g' |
  paste -sd'|')
exported=$(nm -D --defined-only "$library" | awk '{print $3}')
unexpected=$(grep -Ev "^($allowed)\$" <<<"$exported")
if [[ -n $unexpected ]]; then
  fail "unexpected exports: $(echo $unexpected)"
elif ! grep -qx nanosleep <<<"$exported"; then
  fail "nanosleep is not exported"
else
  echo "ok: exports only interposed names ($(wc -w <<<"$exported") names)"
fi

# A third-party binary nobody here wrote: coreutils' sleep, on each backend, cooperatively (its
# nanosleep never reaches the kernel as a blocking sleep).
for backend in uring epoll; do
  start=$(date +%s%N)
  expect_status 0 "coreutils sleep 0.2 on $backend" "$cogent" run --backend "$backend" -- \
    /usr/bin/sleep 0.2
  elapsed_ms=$((($(date +%s%N) - start) / 1000000))
  ((elapsed_ms >= 200)) || fail "sleep 0.2 on $backend took only $elapsed_ms ms"
done
if command -v strace >/dev/null; then
  if ! strace -f -qq -e trace=clock_nanosleep,nanosleep -o "$scratch/trace" \
    "$cogent" run -- /usr/bin/sleep 0.05 2>/dev/null; then
    echo "skipped: strace cannot trace here"
  elif [[ -s "$scratch/trace" ]]; then
    fail "sleep under the shim still blocked in the kernel: $(cat "$scratch/trace")"
  else
    echo "ok: sleep under the shim waits in the hub, not in clock_nanosleep"
  fi
fi
expect_status 0 "coreutils sleep with --threads native" "$cogent" run --threads native -- \
  /usr/bin/sleep 0.01

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all launcher checks passed"
