#!/usr/bin/env bash
# The shim benchmark: a legacy thread-per-connection echo server (bench/peers/threaded_echo_server.c,
# one pthread per client, blocking calls) natively and under libcogent_preload.so, in one run,
# at several connection counts; prints bench/echo_bench.sh's table with the server's peak RSS,
# peak OS threads and CPU time, then the issue's targets with MET or MISSED.
#
#   bench/shim_bench.sh --build-dir DIR [--duration S] [--warmup S] [--settle S] [--rounds N]
#                       [--connections "100 1000 10000"] [--backends "uring epoll"]
#
# DIR is a Release build with the benchmarks (targets threaded_echo_server, cogent_loadgen,
# cogent_preload, cogent_launcher). The contenders, interleaved at each connection count (and in
# each of N rounds): `native` (the server as it is), then `shim_<backend>` for each backend
# (`cogent run --backend <backend> -- server`, the same process under LD_PRELOAD). Ratios compare
# with `native` of the same round; a native run that failed is no baseline (ratios `-`).
#
# loadgen's settle phase (--settle, default 30 s) echoes every connection once before the warm-up:
# a thread-per-connection server's accept loop competes with every busy client thread, and would
# otherwise still be accepting during the measurement. Servers get the hard RLIMIT_NOFILE.
#
# Memory: the targets compare VmHWM (resident pages). The table also shows each server's page
# tables and the growth of the machine's kernel stacks (16 KiB per OS thread, in no per-process
# figure), and the 1,000-connection line repeats the comparison with those added.
#
# A native run at 10,000 connections may fail on a small machine (thread or memory limits); it is
# then a failed row whose note says why (loadgen's error kinds, the server's first stderr line),
# and the limits that matter are printed first. Exits 1 if a shim run failed or the harness could
# not run; a failed native run or a missed target alone does not make it fail.

set -euo pipefail

usage() {
  sed -n '7,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
build_dir=""
duration=3
warmup=1
settle=30
rounds=1
connection_counts="100 1000 10000"
backends="uring epoll"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=${2:?}; shift 2 ;;
    --duration) duration=${2:?}; shift 2 ;;
    --warmup) warmup=${2:?}; shift 2 ;;
    --settle) settle=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --connections) connection_counts=${2:?}; shift 2 ;;
    --backends) backends=${2?}; shift 2 ;;  # "": the native server alone
    *) usage ;;
  esac
done
[[ -n "$build_dir" ]] || usage
build_dir=$(cd "$build_dir" && pwd)
server=$build_dir/bench/threaded_echo_server
launcher=$build_dir/shim/cogent
for f in "$server" "$build_dir/bench/loadgen" "$build_dir/shim/libcogent_preload.so" "$launcher"; do
  [[ -x "$f" || -f "$f" ]] || { echo "shim_bench: missing $f (build it first)" >&2; exit 2; }
done
for backend in $backends; do
  [[ $backend == uring || $backend == epoll ]] || { echo "shim_bench: backend '$backend'?" >&2; exit 2; }
done

# Every connection is a descriptor in the server (and one in loadgen, which raises its own limit).
ulimit -n "$(ulimit -Hn)"
most=0
for c in $connection_counts; do
  if ((c > most)); then most=$c; fi
done
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt $((most + 64)) ]]; then
  echo "shim_bench: warning: RLIMIT_NOFILE is $(ulimit -n); $most connections need more" >&2
fi

# The limits a native thread-per-connection server meets, for reading a failed native row.
pids_max=$(cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max 2>/dev/null ||
  echo "-")
echo "limits: RLIMIT_NOFILE $(ulimit -n), RLIMIT_NPROC $(ulimit -u), threads-max" \
  "$(cat /proc/sys/kernel/threads-max), pid_max $(cat /proc/sys/kernel/pid_max), max_map_count" \
  "$(cat /proc/sys/vm/max_map_count), cgroup pids.max $pids_max, stack rlimit $(ulimit -s) KiB," \
  "MemAvailable $(awk '/^MemAvailable:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "shim: $("$launcher" info 2>&1 | tr '\n' ';' | sed 's/;$//; s/;/; /g')"

contenders=("native=$server")
for backend in $backends; do
  contenders+=("shim_$backend=$launcher run --backend $backend -- $server")
done

results=$(mktemp /tmp/shim_bench.XXXXXX)
trap 'rm -f "$results"' EXIT
bench_status=0
bash "$here/echo_bench.sh" --build-dir "$build_dir" --duration "$duration" --warmup "$warmup" \
  --settle "$settle" --rounds "$rounds" --connections "$connection_counts" --server-stats \
  --results "$results" -- "${contenders[@]}" || bench_status=$?
if [[ ! -s "$results" ]]; then
  echo "shim_bench: echo_bench.sh produced no results (status $bench_status)" >&2
  exit 1
fi

# The issue's targets, from the runs' means over their rounds (failed runs left out).
echo
echo "targets (means over $rounds round(s); failed runs are not averaged):"
awk -F'\t' -v backends="$backends" '
  {
    key = $2 SUBSEP $3
    runs[key]++
    if ($4 == "ok") { ok[key]++; rate[key] += $5; hwm[key] += $7; mem[key] += $7 + $12 + $13 }
    else if (!(key in why)) why[key] = $11
  }
  function mean(sum, key) { return ok[key] ? sum[key] / ok[key] : 0 }
  function clean(name, c) { return runs[name SUBSEP c] > 0 && ok[name SUBSEP c] == runs[name SUBSEP c] }
  END {
    n = split(backends, list, " ")
    for (i = 1; i <= n; i++) {
      shim = "shim_" list[i]
      s = shim SUBSEP 1000; b = "native" SUBSEP 1000
      if (!(s in runs)) continue
      if (clean(shim, 1000) && clean("native", 1000)) {
        r = mean(rate, s) / mean(rate, b); m = mean(hwm, s) / mean(hwm, b)
        t = mean(mem, s) / mean(mem, b)
        printf "  %-10s 1,000 connections: msgs/s %.2fx native (>= 1.50x) %s; peak RSS %.3fx native (<= 0.200x) %s; with page tables and kernel stacks %.3fx\n",
          shim, r, (r >= 1.5 ? "MET" : "MISSED"), m, (m <= 0.2 ? "MET" : "MISSED"), t
      } else {
        printf "  %-10s 1,000 connections: no comparison, a run failed (%s) MISSED\n", shim,
          (why[s] != "" ? why[s] : why[b])
      }
    }
    for (i = 1; i <= n; i++) {
      shim = "shim_" list[i]
      if (!((shim SUBSEP 10000) in runs)) continue
      printf "  %-10s 10,000 connections served without error: %s\n", shim,
        (clean(shim, 10000) ? "MET" : "MISSED (" why[shim SUBSEP 10000] ")")
    }
    for (key in runs) {
      split(key, part, SUBSEP)
      if (part[1] == "native" && ok[key] < runs[key])
        printf "  native failed at %s connections (%d of %d runs): %s\n", part[2],
          runs[key] - ok[key], runs[key], why[key]
    }
  }' "$results"

# Only a failed shim run (or no run at all) fails the harness.
if awk -F'\t' '$2 != "native" && $4 != "ok" { bad = 1 } END { exit !bad }' "$results"; then
  exit 1
fi
exit 0
