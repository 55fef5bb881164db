#!/usr/bin/env bash
# Echo benchmark: each server against bench/loadgen, 64-byte ping-pong, at several connection
# counts; prints a markdown table.
#
#   bench/echo_bench.sh --build-dir DIR [--duration S] [--warmup S] [--connections "1 64 1000"]
#                       [--size B] -- NAME=COMMAND [NAME=COMMAND ...]
#
# COMMAND is a server command line (run by bash, so quoting works); `--port 0` is appended, and the
# server must print `listening on N` on stdout once it listens on 127.0.0.1. The first server is the
# reference the ratio columns compare with. Example:
#
#   bench/echo_bench.sh --build-dir build-rel -- \
#       uring=build-rel/bench/raw_uring_echo epoll=build-rel/bench/raw_epoll_echo
#
# With two CPUs or more the server runs on CPU 0 and loadgen on CPU 1. The server's CPU time is
# its utime+stime from /proc/PID/stat, read just before and just after loadgen runs; it is divided
# into every message of that run (warm-up included), for "messages per server CPU-second".
# "loadgen CPU" is loadgen's own CPU time over its run: near 100 %, loadgen may be what limits the
# rate. Other processes on the machine disturb every figure: the load average is printed. Exits 1
# if a run reported errors, a server failed to start or to exit on SIGTERM within 5 s.

set -euo pipefail

usage() {
  sed -n '5,6p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

build_dir=""
duration=3
warmup=1
connection_counts="1 64 1000"
size=64
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=${2:?}; shift 2 ;;
    --duration) duration=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --connections) connection_counts=${2:?}; shift 2 ;;
    --size) size=${2:?}; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
[[ -n "$build_dir" && $# -gt 0 ]] || usage
loadgen="$build_dir/bench/loadgen"
[[ -x "$loadgen" ]] || { echo "echo_bench: no $loadgen (build target cogent_loadgen)" >&2; exit 2; }

names=()
commands=()
for spec in "$@"; do
  [[ "$spec" == *=* ]] || { echo "echo_bench: '$spec' is not NAME=COMMAND" >&2; exit 2; }
  names+=("${spec%%=*}")
  commands+=("${spec#*=}")
done

clock_ticks=$(getconf CLK_TCK)
if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
  server_pin=(taskset -c 0)
  loadgen_pin=(taskset -c 1)
  pinning="server on CPU 0, loadgen on CPU 1"
else
  server_pin=()
  loadgen_pin=()
  pinning="not pinned (one CPU, or no taskset): server and loadgen share the machine"
fi
echo "echo_bench: $pinning" >&2
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${load_before%% *}" 'BEGIN { exit !(l >= 0.5) }'; then
  echo "echo_bench: warning: load average $load_before, other processes will disturb the figures" >&2
fi

work=$(mktemp -d /tmp/echo_bench.XXXXXX)
server_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# utime + stime of a process, in clock ticks. The command name (field 2) may hold spaces and
# parentheses: count fields from after its closing parenthesis.
cpu_ticks() {
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  local fields
  read -ra fields <<<"$stat"
  echo $((fields[11] + fields[12]))  # fields 14 and 15 of the whole line
}

# The state letter of a process (Z once it has exited and waits to be reaped); empty when gone.
process_state() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  echo "${stat%% *}"
}

json_field() {  # json_field KEY JSON: the value of a number field in loadgen's flat JSON line
  [[ "$2" =~ \"$1\":([-0-9.e+]+) ]] && echo "${BASH_REMATCH[1]}" || echo "?"
}

# Starts server $1 (a command line); sets server_pid and server_port.
start_server() {
  local out="$work/server.out"
  : >"$out"
  "${server_pin[@]}" bash -c "exec $1 --port 0" >"$out" 2>"$work/server.err" &
  server_pid=$!
  server_port=""
  local deadline=$((SECONDS + 5))
  while [[ $SECONDS -lt $deadline ]]; do
    if [[ $(<"$out") =~ listening\ on\ ([0-9]+) ]]; then
      server_port=${BASH_REMATCH[1]}
      return 0
    fi
    [[ "$(process_state "$server_pid")" =~ ^(Z|X|)$ ]] && break
    sleep 0.05
  done
  echo "echo_bench: server '$1' did not print 'listening on N' within 5 s" >&2
  cat "$work/server.err" >&2
  return 1
}

# SIGTERM to server_pid, then up to 5 s for it to exit; fails if it does not, or exits nonzero.
stop_server() {
  local pid=$server_pid status=0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 5))
  until [[ "$(process_state "$pid")" =~ ^(Z|X|)$ ]]; do
    if [[ $SECONDS -ge $deadline ]]; then
      echo "echo_bench: server $pid did not exit within 5 s of SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      server_pid=""
      return 1
    fi
    sleep 0.05
  done
  wait "$pid" || status=$?
  server_pid=""
  if [[ $status -ne 0 ]]; then
    echo "echo_bench: server $pid exited with status $status" >&2
    cat "$work/server.err" >&2
    return 1
  fi
}

# ratio A B: A / B to two decimals, or "-" when B is not a positive number.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a ~ /^[0-9.]+$/) printf "%.2f", a / b; else printf "-" }'
}

failed=0
rows=()
loadgen_timeout=$(awk -v d="$duration" -v w="$warmup" 'BEGIN { printf "%d", d + w + 40 }')
for connections in $connection_counts; do
  ref_rate=""
  ref_per_cpu=""
  for i in "${!names[@]}"; do
    name=${names[$i]}
    echo "echo_bench: $name, $connections connections" >&2
    if ! start_server "${commands[$i]}"; then
      failed=1
      rows+=("| $name | $connections | server did not start | | | | | | | |")
      if [[ -n "$server_pid" ]]; then stop_server || true; fi
      continue
    fi
    before=$(cpu_ticks "$server_pid")
    loadgen_status=0
    json=$(timeout "$loadgen_timeout" "${loadgen_pin[@]}" "$loadgen" --port "$server_port" \
      --connections "$connections" --size "$size" --duration "$duration" --warmup "$warmup" \
      --json 2>"$work/loadgen.err") || loadgen_status=$?
    after=$(cpu_ticks "$server_pid")
    stop_server || failed=1
    sed 's/^/  /' "$work/loadgen.err" >&2

    rate=$(json_field msgs_per_s "$json")
    total=$(json_field total_msgs "$json")
    errors=$(json_field errors "$json")
    if [[ $loadgen_status -ne 0 ]]; then
      failed=1
      [[ $loadgen_status -eq 124 ]] && errors="loadgen timed out"
    fi
    per_cpu=$(awk -v t="$total" -v c="$((after - before))" -v hz="$clock_ticks" \
      'BEGIN { if (c > 0 && t ~ /^[0-9]+$/) printf "%.0f", t / (c / hz); else printf "-" }')
    if [[ $i -eq 0 ]]; then
      ref_rate=$rate
      ref_per_cpu=$per_cpu
    fi
    loadgen_cpu=$(awk -v c="$(json_field loadgen_cpu "$json")" \
      'BEGIN { if (c ~ /^[0-9.]+$/) printf "%.0f %%", c * 100; else printf "-" }')
    rows+=("| $name | $connections | ${rate%.*} | $(json_field p50_us "$json") |\
 $(json_field p99_us "$json") | $per_cpu | $errors | $(ratio "$rate" "$ref_rate") |\
 $(ratio "$per_cpu" "$ref_per_cpu") | $loadgen_cpu |")
  done
done

echo
echo "${size}-byte ping-pong, ${duration} s measured after ${warmup} s warm-up; $pinning;"
echo "load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after."
echo "Ratios are against ${names[0]} at the same connection count (above 1: more than ${names[0]})."
echo
echo "| server | connections | msgs/s | p50 µs | p99 µs | msgs per server CPU-s | errors | msgs/s × | msgs/CPU-s × | loadgen CPU |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
exit $failed
