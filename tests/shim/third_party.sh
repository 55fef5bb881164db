#!/usr/bin/env bash
# Real third-party binaries from Debian, which nobody here wrote, natively and under the shim
# (LD_PRELOAD on the io_uring and the epoll backend): coreutils `sleep 0.2`, `curl` fetching a file
# from a local HTTP server, and /usr/bin/python3 running tests/shim/python/threads_queue_socket.py
# (threading, queue, socket). Each must print the same stdout and exit with the same code as
# natively; curl's output must be the served file byte for byte, `sleep` must have slept, and the
# Python script, whose threads become greenlets, must run them on one OS thread (the shim
# runtime's pool threads, "cogent-pool", not counted).
#
#   tests/shim/third_party.sh BUILD_DIR
#
# The HTTP server (python3 -m http.server) runs natively, outside the shim. A run that hangs is
# stopped after 60 s, and the script says which system call it was blocked in (from /proc), the
# usual sign of a blocking call the shim does not make cooperative.
set -u

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
preload=$1/shim/libcogent_preload.so
python=/usr/bin/python3
script=$(cd "$(dirname "$0")" && pwd)/python/threads_queue_socket.py
for f in "$preload" "$python" "$script" /usr/bin/curl /bin/sleep; do
  [[ -e $f ]] || { echo "missing: $f" >&2; exit 2; }
done

work=$(mktemp -d)
http_pid=""
cleanup() {
  if [[ -n $http_pid ]]; then
    kill -TERM "$http_pid" 2>/dev/null
    wait "$http_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# The name of an x86-64 system call number, for the few a hung program is usually blocked in.
syscall_name() {
  [[ $(uname -m) == x86_64 ]] || { echo "$1"; return; }
  case $1 in
    0) echo read ;; 1) echo write ;; 7) echo poll ;; 23) echo select ;; 35) echo nanosleep ;;
    42) echo connect ;; 43) echo accept ;; 44) echo sendto ;; 45) echo recvfrom ;;
    46) echo sendmsg ;; 47) echo recvmsg ;; 61) echo wait4 ;; 202) echo futex ;;
    230) echo clock_nanosleep ;; 232) echo epoll_wait ;; 270) echo pselect6 ;; 271) echo ppoll ;;
    281) echo epoll_pwait ;; 288) echo accept4 ;; 426) echo io_uring_enter ;; *) echo "$1" ;;
  esac
}

# run NAME COMMAND...: runs it for 60 s at most, keeping stdout, stderr, exit code (124 when it
# was stopped), the time it took in ms, and the OS thread count the Python script reports.
run() {
  local name=$1
  shift
  local start=$EPOCHREALTIME
  COGENT_TEST_THREADS=$work/$name.threads "$@" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$! deadline=$((SECONDS + 60)) status hung=0
  # Until it has exited (a zombie still answers kill -0 until it is waited for).
  while [[ $(cat "/proc/$pid/stat" 2>/dev/null) =~ \)\ [^Z]\  ]]; do
    if [[ $SECONDS -ge $deadline ]]; then
      # The main thread's system call number and kernel wait channel, before it is killed.
      local syscall wchan
      syscall=$(cut -d' ' -f1 "/proc/$pid/syscall" 2>/dev/null)
      wchan=$(cat "/proc/$pid/wchan" 2>/dev/null)
      echo "blocked in system call $(syscall_name "${syscall:-?}") (kernel: ${wchan:-?})" \
        >>"$work/$name.err"
      kill -KILL "$pid" 2>/dev/null
      hung=1
      break
    fi
    sleep 0.02
  done
  wait "$pid" 2>/dev/null  # no "Killed" notice from bash
  status=$?
  [[ $hung -eq 1 ]] && status=124
  echo "$status" >"$work/$name.rc"
  echo $((${EPOCHREALTIME/./} / 1000 - ${start/./} / 1000)) >"$work/$name.ms"
}

# same NATIVE SHIM WHAT: the shim run printed the same and exited the same as the native one
# (says why not, with the end of the shim run's stderr).
same() {
  local native=$1 shim=$2 what=$3 ok=1
  if [[ $(<"$work/$shim.rc") -eq 124 ]]; then
    fail "$what: hung, stopped after 60 s (natively: exit $(<"$work/$native.rc"))"
    tail -n 15 "$work/$shim.err" | sed 's/^/  | /'
    return 1
  fi
  if ! cmp -s "$work/$native.out" "$work/$shim.out"; then
    fail "$what: stdout differs from the native run"
    diff -u "$work/$native.out" "$work/$shim.out" | head -20 | sed 's/^/  | /'
    ok=0
  fi
  if [[ $(<"$work/$native.rc") != $(<"$work/$shim.rc") ]]; then
    fail "$what: exit code $(<"$work/$shim.rc"), natively $(<"$work/$native.rc")"
    ok=0
  fi
  if [[ $ok -eq 0 && -s $work/$shim.err ]]; then
    echo "  $what, stderr:"
    tail -n 15 "$work/$shim.err" | sed 's/^/  | /'
  fi
  [[ $ok -eq 1 ]]
}

# ---- coreutils sleep ----
run sleep-native /bin/sleep 0.2
for backend in uring epoll; do
  name=sleep-$backend
  what="sleep 0.2 under the shim ($backend)"
  run "$name" env COGENT_BACKEND=$backend LD_PRELOAD="$preload" /bin/sleep 0.2
  if same sleep-native "$name" "$what"; then
    if [[ $(<"$work/$name.ms") -lt 200 ]]; then
      fail "$what returned after $(<"$work/$name.ms") ms"
    else
      echo "ok: $what"
    fi
  fi
done

# ---- curl against a local HTTP server ----
mkdir "$work/www"
# 1 MiB of known bytes: many reads and writes on both sides.
"$python" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4096)' >"$work/www/data.bin"
"$python" -u -m http.server --bind 127.0.0.1 --directory "$work/www" 0 \
  >"$work/http.out" 2>"$work/http.err" &
http_pid=$!
port=""
for _ in $(seq 100); do
  [[ $(<"$work/http.out") =~ port\ ([0-9]+) ]] && port=${BASH_REMATCH[1]} && break
  sleep 0.05
done
if [[ -z $port ]]; then
  fail "the local HTTP server did not start"
  sed 's/^/  | /' "$work/http.err"
else
  url=http://127.0.0.1:$port/data.bin
  run curl-native /usr/bin/curl -s "$url"
  if ! cmp -s "$work/www/data.bin" "$work/curl-native.out"; then
    fail "curl natively did not fetch the file (exit $(<"$work/curl-native.rc"))"
  fi
  for backend in uring epoll; do
    name=curl-$backend
    what="curl under the shim ($backend)"
    run "$name" env COGENT_BACKEND=$backend LD_PRELOAD="$preload" /usr/bin/curl -s "$url"
    if same curl-native "$name" "$what"; then
      if cmp -s "$work/www/data.bin" "$work/$name.out"; then
        echo "ok: $what"
      else
        fail "$what: the body differs from the served file"
      fi
    fi
  done
fi

# ---- python3: threading, queue, socket ----
run python-native "$python" "$script"
threads=$(cat "$work/python-native.threads" 2>/dev/null || echo none)
if [[ $(<"$work/python-native.rc") != 0 ]]; then
  fail "python3 $script natively: exit $(<"$work/python-native.rc")"
  sed 's/^/  | /' "$work/python-native.err"
elif [[ $threads == none || $threads -le 1 ]]; then
  fail "python3 natively: expected several OS threads, saw $threads"
fi
for backend in uring epoll; do
  name=python-$backend
  what="python3 threads_queue_socket.py under the shim ($backend)"
  run "$name" env COGENT_BACKEND=$backend LD_PRELOAD="$preload" "$python" "$script"
  if same python-native "$name" "$what"; then
    threads=$(cat "$work/$name.threads" 2>/dev/null || echo none)
    if [[ $threads == 1 ]]; then
      echo "ok: $what"
    else
      fail "$what: $threads OS threads while its threads lived, expected 1"
    fi
  fi
done

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "sleep, curl and python3 behave the same natively and under the shim (both backends)"
