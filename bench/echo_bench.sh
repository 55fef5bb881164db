#!/usr/bin/env bash
# Echo benchmark: each server against bench/loadgen, 64-byte ping-pong, at several connection
# counts; prints a markdown table.
#
#   bench/echo_bench.sh --build-dir DIR [--duration S] [--warmup S] [--connections "1 64 1000"]
#                       [--size B] [--settle S] [--rounds N] [--server-stats] [--results FILE]
#                       -- NAME=COMMAND [NAME=COMMAND ...]
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
#
# Options for servers whose cost grows with their connections (bench/shim_bench.sh uses them):
#   --settle S      loadgen's settle phase: every connection is echoed once before the warm-up
#                   (S seconds at most); the time it took is a column.
#   --rounds N      run the servers N times at each connection count, interleaved (A B A B...);
#                   ratios compare with the first server of the same round.
#   --server-stats  more columns: the server's peak RSS (VmHWM from /proc/PID/status, read just
#                   before it is stopped), its peak page tables (VmPTE, sampled: not in VmHWM),
#                   the growth of the machine's kernel stacks (KernelStack in /proc/meminfo:
#                   16 KiB per thread, in no per-process figure; system-wide, so disturbed by
#                   anything else that starts threads meanwhile), its peak OS thread count
#                   (Threads:, sampled every 0.1 s and at the end), its CPU seconds during
#                   loadgen's run, and a note saying why a run failed (loadgen's error kinds,
#                   the server's first stderr line).
#   --results FILE  also append one tab-separated line per run to FILE: round, server,
#                   connections, ok|failed, msgs/s, p99 µs, VmHWM kB, peak threads, server CPU s,
#                   errors, note, VmPTE kB, kernel stacks Δ kB.

set -euo pipefail

usage() {
  sed -n '5,7p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

build_dir=""
duration=3
warmup=1
connection_counts="1 64 1000"
size=64
settle=""
rounds=1
server_stats=0
results=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=${2:?}; shift 2 ;;
    --duration) duration=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --connections) connection_counts=${2:?}; shift 2 ;;
    --size) size=${2:?}; shift 2 ;;
    --settle) settle=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --server-stats) server_stats=1; shift ;;
    --results) results=${2:?}; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
[[ -n "$build_dir" && $# -gt 0 && "$rounds" =~ ^[1-9][0-9]*$ ]] || usage
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
sampler_pid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [[ -n "$sampler_pid" ]]; then kill -TERM "$sampler_pid" 2>/dev/null || true; fi
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

# The server's Threads:, VmHWM: and VmPTE: lines and the machine's KernelStack: (meminfo), every
# 0.1 s, appended to $work/samples, from a bash process of its own on loadgen's CPU (so that it
# takes nothing from the server's).
# shellcheck disable=SC2016  # expanded by that bash
sampler_script='while [[ -r /proc/$1/status ]]; do
  while read -r key value _; do
    case $key in Threads: | VmHWM: | VmPTE:) echo "$key $value" ;; esac
  done </proc/$1/status
  while read -r key value _; do
    [[ $key == KernelStack: ]] && echo "$key $value"
  done </proc/meminfo
  sleep 0.1
done'

start_sampler() {
  : >"$work/samples"
  "${loadgen_pin[@]}" bash -c "$sampler_script" sampler "$server_pid" >>"$work/samples" 2>/dev/null &
  sampler_pid=$!
}

stop_sampler() {
  if [[ -n "$sampler_pid" ]]; then
    kill -TERM "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=""
  fi
}

# Reads the server's status once more (before it is stopped); sets peak_threads, hwm_kb, pte_kb
# (its page tables, which VmHWM leaves out: about 4 KiB per native thread) and kstack_kb (the
# growth of the machine's kernel stacks since just before the server started: 16 KiB per thread,
# in no per-process figure; system-wide, so any other process starting threads disturbs it).
read_server_stats() {
  local key value _
  if [[ -r /proc/$server_pid/status ]]; then
    while read -r key value _; do
      case $key in Threads: | VmHWM: | VmPTE:) echo "$key $value" ;; esac
    done <"/proc/$server_pid/status" >>"$work/samples"
  fi
  peak_threads=$(awk '$1 == "Threads:" && $2 > m { m = $2 } END { print m ? m : "-" }' "$work/samples")
  hwm_kb=$(awk '$1 == "VmHWM:" && $2 > m { m = $2 } END { print m ? m : "-" }' "$work/samples")
  pte_kb=$(awk '$1 == "VmPTE:" && $2 > m { m = $2 } END { print m ? m : "-" }' "$work/samples")
  kstack_kb=$(awk -v base="$kstack_before" '$1 == "KernelStack:" && $2 > m { m = $2 }
    END { d = m - base; print (m && base ~ /^[0-9]+$/) ? (d > 0 ? d : 0) : "-" }' "$work/samples")
}

# Why a run failed, in a few words: loadgen's error kinds and the server's first stderr line.
failure_note() {
  local json=$1 loadgen_status=$2 note="" field count
  [[ $loadgen_status -eq 124 ]] && note="loadgen timed out"
  for field in connect_failures resets mismatches short_connections stalled; do
    count=$(json_field "$field" "$json")
    [[ "$count" =~ ^[1-9] ]] && note+="${note:+, }$count ${field//_/ }"
  done
  local first
  first=$(grep -m1 '^loadgen: ' "$work/loadgen.err" | cut -c1-120 || true)
  [[ -n "$first" ]] && note+=" ($first)"
  if [[ -s "$work/server.err" ]]; then
    local lines
    lines=$(wc -l <"$work/server.err")
    note+="${note:+; }server: $(head -n1 "$work/server.err" | cut -c1-120)"
    [[ $lines -gt 1 ]] && note+=" ($lines lines)"
  fi
  echo "${note//|/\\|}"
}

# mib KB: kilobytes as MiB to one decimal, or "-".
mib() {
  awk -v k="$1" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%.1f", k / 1024; else printf "-" }'
}

# ratio A B: A / B to two decimals, or "-" when B is not a positive number.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a ~ /^[0-9.]+$/) printf "%.2f", a / b; else printf "-" }'
}

failed=0
rows=()
loadgen_extra=()
[[ -n "$settle" ]] && loadgen_extra+=(--settle "$settle")
loadgen_timeout=$(awk -v d="$duration" -v w="$warmup" -v s="${settle:-0}" \
  'BEGIN { printf "%d", d + w + s + 40 }')
for connections in $connection_counts; do
  for ((round = 1; round <= rounds; round++)); do
    ref_rate=""
    ref_per_cpu=""
    ref_p99=""
    ref_hwm=""
    for i in "${!names[@]}"; do
      name=${names[$i]}
      label=$name
      [[ $rounds -gt 1 ]] && label="$name (round $round)"
      echo "echo_bench: $label, $connections connections" >&2
      kstack_before=$(awk '$1 == "KernelStack:" { print $2 }' /proc/meminfo)
      if ! start_server "${commands[$i]}"; then
        failed=1
        note=""
        [[ -s "$work/server.err" ]] && note="server: $(head -n1 "$work/server.err" | cut -c1-120)"
        if [[ $server_stats -eq 1 ]]; then
          rows+=("| $label | $connections | server did not start | | | | | | | | | | | | | | | | ${note//|/\\|} |")
        else
          rows+=("| $label | $connections | server did not start | | | | | | | |")
        fi
        [[ -n "$results" ]] && printf '%s\t%s\t%s\tfailed\t-\t-\t-\t-\t-\t-\tserver did not start %s\n' \
          "$round" "$name" "$connections" "$note" >>"$results"
        if [[ -n "$server_pid" ]]; then stop_server || true; fi
        continue
      fi
      before=$(cpu_ticks "$server_pid")
      [[ $server_stats -eq 1 ]] && start_sampler
      loadgen_status=0
      json=$(timeout "$loadgen_timeout" "${loadgen_pin[@]}" "$loadgen" --port "$server_port" \
        --connections "$connections" --size "$size" --duration "$duration" --warmup "$warmup" \
        "${loadgen_extra[@]}" --json 2>"$work/loadgen.err") || loadgen_status=$?
      after=$(cpu_ticks "$server_pid")
      if [[ $server_stats -eq 1 ]]; then
        stop_sampler
        read_server_stats
      fi
      run_ok=1
      stop_server || run_ok=0
      sed 's/^/  /' "$work/loadgen.err" >&2

      rate=$(json_field msgs_per_s "$json")
      total=$(json_field total_msgs "$json")
      errors=$(json_field errors "$json")
      p99=$(json_field p99_us "$json")
      if [[ $loadgen_status -ne 0 ]]; then
        run_ok=0
        [[ $loadgen_status -eq 124 ]] && errors="loadgen timed out"
      fi
      [[ $run_ok -eq 1 ]] || failed=1
      per_cpu=$(awk -v t="$total" -v c="$((after - before))" -v hz="$clock_ticks" \
        'BEGIN { if (c > 0 && t ~ /^[0-9]+$/) printf "%.0f", t / (c / hz); else printf "-" }')
      cpu_s=$(awk -v c="$((after - before))" -v hz="$clock_ticks" 'BEGIN { printf "%.2f", c / hz }')
      # The reference is the first server of the round; with --server-stats only a clean run of it
      # is one (a server that turned clients away is not a baseline).
      if [[ $i -eq 0 && ($server_stats -eq 0 || $run_ok -eq 1) ]]; then
        ref_rate=$rate
        ref_per_cpu=$per_cpu
        ref_p99=$p99
        ref_hwm=${hwm_kb:-}
      fi
      loadgen_cpu=$(awk -v c="$(json_field loadgen_cpu "$json")" \
        'BEGIN { if (c ~ /^[0-9.]+$/) printf "%.0f %%", c * 100; else printf "-" }')
      if [[ $server_stats -eq 1 ]]; then
        note=""
        [[ $run_ok -eq 1 ]] || note=$(failure_note "$json" "$loadgen_status")
        rss_mib=$(mib "$hwm_kb")
        pte_mib=$(mib "$pte_kb")
        kstack_mib=$(mib "$kstack_kb")
        settle_s=-
        [[ -n "$settle" ]] && settle_s=$(json_field settle_s "$json")
        ratios="$(ratio "$rate" "$ref_rate") | $(ratio "$p99" "$ref_p99") |\
 $(ratio "$hwm_kb" "$ref_hwm") | $(ratio "$per_cpu" "$ref_per_cpu")"
        [[ $run_ok -eq 1 ]] || ratios="- | - | - | -"  # a failed run compares with nothing
        rows+=("| $label | $connections | ${rate%.*} | $(json_field p50_us "$json") | $p99 |\
 $rss_mib | $pte_mib | $kstack_mib | $peak_threads | $cpu_s | $per_cpu | $settle_s | $errors |\
 $ratios | $loadgen_cpu | $note |")
      else
        rows+=("| $label | $connections | ${rate%.*} | $(json_field p50_us "$json") |\
 $p99 | $per_cpu | $errors | $(ratio "$rate" "$ref_rate") |\
 $(ratio "$per_cpu" "$ref_per_cpu") | $loadgen_cpu |")
      fi
      if [[ -n "$results" ]]; then
        [[ $server_stats -eq 1 ]] || note=""
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" \
          "$connections" "$([[ $run_ok -eq 1 ]] && echo ok || echo failed)" "$rate" "$p99" \
          "${hwm_kb:--}" "${peak_threads:--}" "$cpu_s" "$errors" "$note" "${pte_kb:--}" \
          "${kstack_kb:--}" >>"$results"
      fi
    done
  done
done

echo
echo "${size}-byte ping-pong, ${duration} s measured after ${warmup} s warm-up; $pinning;"
[[ -n "$settle" ]] && echo "every connection echoed once first (settle phase, at most ${settle} s);"
echo "load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after."
same="the same connection count"
[[ $rounds -gt 1 ]] && same="the same connection count and round"
echo "Ratios are against ${names[0]} at $same (above 1: more than ${names[0]})."
echo
if [[ $server_stats -eq 1 ]]; then
  echo "| server | connections | msgs/s | p50 µs | p99 µs | peak RSS MiB | peak PTE MiB | kernel stacks Δ MiB | peak threads | server CPU s | msgs per server CPU-s | settle s | errors | msgs/s × | p99 × | RSS × | msgs/CPU-s × | loadgen CPU | note |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
else
  echo "| server | connections | msgs/s | p50 µs | p99 µs | msgs per server CPU-s | errors | msgs/s × | msgs/CPU-s × | loadgen CPU |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
fi
printf '%s\n' "${rows[@]}"
exit $failed
