"""cogent-bench: see `cogent-bench --help` and bench/README.md."""

import argparse
import datetime
import os
import shlex
import shutil
import subprocess
import sys
import time

from . import charts, machine, memory, micro, report
from .contenders import REFERENCE, Contender, all_contenders
from .echo_run import Workload
from .progress import Progress
from .sweep import LONG_RUN_CONNECTIONS, LONG_RUN_S, Sweep, run_sweep

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PIPELINE = 16
WORKLOADS = {
    "pingpong-64": Workload("pingpong-64", 64, 1),
    "pingpong-4096": Workload("pingpong-4096", 4096, 1),
    "pipelined-64": Workload("pipelined-64", 64, PIPELINE),
    "pipelined-4096": Workload("pipelined-4096", 4096, PIPELINE),
}
FULL = dict(rounds=3, duration=1.0, warmup=0.3, connections="1,10,100,1000,10000",
            workloads=",".join(WORKLOADS), repetitions=5, min_time=0.05, memory="10000,100000")
QUICK = dict(rounds=1, duration=0.4, warmup=0.1, connections="10,1000",
             workloads="pingpong-64,pipelined-4096", repetitions=1, min_time=0.01, memory="10000")
# A native thread per connection at 10,000 connections, all on the server's one CPU: the kernel
# runs 10,000 threads and their accept loop round-robin and some connections see no echo for
# seconds (measured: bench/HISTORY.md, the shim benchmark). That contender stops at 1,000.
THREAD_LIMIT = ("10,000 OS threads sharing one CPU leave connections unserved for seconds "
                "(bench/HISTORY.md, the shim benchmark), so native threads stop at 1,000.")  # fmt: skip
PARTS = ("echo", "micro", "memory")
OPTIONAL = ("go", "gevent")  # peers from optional Debian packages (scripts/setup.sh --bench)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="cogent-bench",
        description="Measures cogent's tasks and greenlets, the shim, plain threads and peer "
        "runtimes side by side, and writes RESULTS.md with charts. Exits 1 if any contender "
        "failed or lost bytes (the report still shows every row), 2 if it could not run.",
    )
    p.add_argument("--quick", action="store_true", help="a smoke run, under 2 minutes")
    p.add_argument("--build-dir", default=os.path.join(SOURCE, "build-bench"),
                   help="Release build to use or make (default: build-bench in the source tree)")
    p.add_argument("--skip-build", action="store_true", help="use --build-dir as it is")
    p.add_argument("--out", help="where RESULTS.md and charts/ go (default: bench/ for a full "
                   "run, BUILD/bench-quick for --quick)")
    p.add_argument("--parts", default=",".join(PARTS), help="any of echo,micro,memory")
    p.add_argument("--rounds", type=int, help="runs of each contender per cell (interleaved)")
    p.add_argument("--duration", type=float, help="measured seconds per run")
    p.add_argument("--warmup", type=float, help="warm-up seconds per run")
    p.add_argument("--connections", help="comma-separated connection counts")
    p.add_argument("--workloads", help="comma-separated, of " + ", ".join(WORKLOADS))
    p.add_argument("--contenders", help="comma-separated names (default: every one that can run)")
    p.add_argument("--server", action="append", default=[], metavar="NAME=COMMAND",
                   help="one more echo server to measure (the protocol: bench/README.md)")
    p.add_argument("--memory-counts", help="comma-separated counts for the memory part")
    p.add_argument("--png", action="store_true", help="also draw each chart as PNG")
    args = p.parse_args(argv)
    preset = QUICK if args.quick else FULL
    for key, option in (("rounds", "rounds"), ("duration", "duration"), ("warmup", "warmup"),
                        ("connections", "connections"), ("workloads", "workloads"),
                        ("memory", "memory_counts")):  # fmt: skip
        if getattr(args, option) is None:
            setattr(args, option, preset[key])
    args.repetitions, args.min_time = preset["repetitions"], preset["min_time"]
    args.parts = [x for x in args.parts.split(",") if x]
    if any(x not in PARTS for x in args.parts):
        p.error(f"--parts: {args.parts}: each of {', '.join(PARTS)}")
    try:
        args.connections = [int(x) for x in args.connections.split(",")]
        args.memory_counts = [int(x) for x in args.memory_counts.split(",")]
    except ValueError:
        p.error("--connections and --memory-counts take comma-separated integers")
    if any(n < 1 for n in args.connections + args.memory_counts) or args.rounds < 1:
        p.error("counts and --rounds must be positive")
    unknown = [w for w in args.workloads.split(",") if w not in WORKLOADS]
    if unknown:
        p.error(f"--workloads: unknown {', '.join(unknown)}")
    args.workloads = [WORKLOADS[w] for w in args.workloads.split(",")]
    if args.out is None:
        args.out = os.path.join(args.build_dir, "bench-quick") if args.quick else os.path.join(SOURCE, "bench")
    return args


def fail(message, status=2):
    print(f"cogent-bench: {message}", file=sys.stderr)
    sys.exit(status)


def build(args):
    if args.skip_build:
        return
    cache = os.path.join(args.build_dir, "CMakeCache.txt")
    if not os.path.exists(cache):
        configure = ["cmake", "-S", SOURCE, "-B", args.build_dir, "-DCMAKE_BUILD_TYPE=Release",
                     "-DCOGENT_BUILD_TESTS=OFF"]  # fmt: skip
        if subprocess.run(configure, stdout=subprocess.DEVNULL).returncode != 0:
            fail("configuring the Release build failed")
    print(f"cogent-bench: building {args.build_dir}", file=sys.stderr, flush=True)
    done = subprocess.run(["cmake", "--build", args.build_dir, f"-j{os.cpu_count()}"],
                          stdout=subprocess.DEVNULL)  # fmt: skip
    if done.returncode != 0:
        fail("the build failed (run `cmake --build " + args.build_dir + "` to see why)")


def build_type(build_dir):
    try:
        for line in open(os.path.join(build_dir, "CMakeCache.txt")):
            if line.startswith("CMAKE_BUILD_TYPE:"):
                return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def choose_contenders(args):
    contenders = all_contenders(args.build_dir, SOURCE)
    for spec in args.server:
        name, sep, command = spec.partition("=")
        if not sep or not name or not command:
            fail(f"--server {spec!r}: NAME=COMMAND")
        contenders.append(Contender(name, name, shlex.split(command), "peer"))
    if args.contenders:
        wanted = args.contenders.split(",") + [s.partition("=")[0] for s in args.server]
        unknown = set(wanted) - {c.name for c in contenders}
        if unknown:
            fail(f"--contenders: no contender named {', '.join(sorted(unknown))}")
        contenders = [c for c in contenders if c.name in wanted]
    for c in contenders:
        if c.name == "threads":
            c.limits = {n: THREAD_LIMIT for n in args.connections if n > 1000}
    missing_required = [c for c in contenders if c.missing and c.name not in OPTIONAL]
    if missing_required and args.contenders:
        fail("; ".join(f"{c.name}: {c.missing}" for c in missing_required))
    for c in contenders:
        if c.missing:
            print(f"cogent-bench: {c.name} is not run: {c.missing}", file=sys.stderr)
    return contenders


def main(argv):
    args = parse_args(argv)
    if "echo" in args.parts and not shutil.which("taskset"):
        fail("taskset (util-linux) is needed to pin the server and loadgen")
    build(args)
    btype = build_type(args.build_dir)
    if btype != "Release":
        print(f"cogent-bench: warning: {args.build_dir} is a {btype} build, not Release",
              file=sys.stderr)
    started = time.monotonic()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_before = machine.load_average()
    load_after = None
    failures = []
    sections = []
    charts_made = []
    os.makedirs(os.path.join(args.out, "charts"), exist_ok=True)
    command_line = " ".join(["bench/cogent-bench"] + [shlex.quote(a) for a in argv])

    if "echo" in args.parts:
        all_c = choose_contenders(args)
        runnable = [c for c in all_c if not c.missing]
        # A peer whose Debian package is absent is a row saying so; any other missing server is
        # a broken build and fails the run.
        failures += [f"{c.name}: {c.missing}" for c in all_c if c.missing and c.name not in OPTIONAL]
        if not any(c.name == REFERENCE for c in runnable) and not args.contenders:
            fail(f"the reference {REFERENCE} cannot run: build it first")
        sweep = Sweep(args.workloads, args.connections, runnable, args.rounds, args.duration,
                      args.warmup)  # fmt: skip
        runs = sum(0 if n in c.limits else args.rounds
                   for c in runnable for n in args.connections) * len(args.workloads)  # fmt: skip
        progress = Progress(runs, "cogent-bench: echo sweep")
        run_sweep(sweep, os.path.join(args.build_dir, "bench", "loadgen"), progress)
        progress.close()
        load_after = machine.load_average()  # before the memory part parks 100,000 threads
        failures += sweep.failures()
        by_name = {c.name: c for c in runnable}
        sections.append(("targets", report.targets_section(sweep, by_name)))
        sections.append(("echo", report.echo_section(sweep, all_c)))
        if charts.available():
            for name, metric, ylabel, title, log_y in (
                ("throughput", "msgs_per_s", "messages per second", "Echo throughput", False),
                ("efficiency", "msgs_per_cpu_s", "messages per server CPU-second",
                 "Echo messages per server CPU-second", False),
                ("p99", "p99_us", "p99 latency (µs)", "Echo p99 latency", True),
            ):  # fmt: skip
                for ext in ("svg", "png") if args.png else ("svg",):
                    path = os.path.join(args.out, "charts", f"{name}.{ext}")
                    charts.line_chart(path, sweep, metric, ylabel, title, log_y)
                charts_made.append((name, title))
        else:
            failures.append("gnuplot is not installed (Debian gnuplot-nox): no charts")

    if "micro" in args.parts:
        binaries = [os.path.join(args.build_dir, "bench", b) for b in ("cogent_micro_bench", "sync_bench")]
        results, commands = [], []
        print("cogent-bench: micro-benchmarks", file=sys.stderr, flush=True)
        for b in binaries:
            commands.append(f"{os.path.relpath(b, SOURCE) if b.startswith(SOURCE) else b} "
                            f"--benchmark_repetitions={args.repetitions} "
                            f"--benchmark_min_time={args.min_time}")  # fmt: skip
            try:
                results += micro.run_binary(b, args.repetitions, args.min_time)
            except (micro.MicroError, OSError) as e:
                failures.append(f"micro-benchmark: {e}")
        matrix, diagnostics = micro.split_matrix(results)
        sections.append(("micro", report.micro_section(matrix, diagnostics, commands)))

    if "memory" in args.parts:
        print("cogent-bench: memory", file=sys.stderr, flush=True)
        go_idle = os.access(os.path.join(args.build_dir, "bench", "go_idle"), os.X_OK)
        try:
            mem = memory.measure(args.build_dir, args.memory_counts, go_idle)
            counts = ",".join(str(n) for n in args.memory_counts)
            sections.append(("memory", report.memory_section(
                mem, args.memory_counts,
                f"cogent_memory_bench --json --greenlets N --tasks N --threads N --bulk-tasks 0"
                + ("; go_idle --goroutines N" if go_idle else "") + f"   # N = {counts}")))  # fmt: skip
            if charts.available():
                for ext in ("svg", "png") if args.png else ("svg",):
                    path = os.path.join(args.out, "charts", f"memory.{ext}")
                    charts.memory_chart(path, mem, args.memory_counts)
                charts_made.append(("memory", "Memory per idle item"))
        except (memory.MemoryError_, OSError, KeyError, ValueError) as e:
            failures.append(f"memory: {e}")

    minutes = (time.monotonic() - started) / 60
    text = render(args, stamp, minutes, (load_before, load_after or machine.load_average()),
                  command_line, btype, sections, charts_made, failures)  # fmt: skip
    path = os.path.join(args.out, "RESULTS.md")
    with open(path, "w") as f:
        f.write(text)
    print(f"cogent-bench: wrote {path} ({minutes:.1f} min)", file=sys.stderr)
    if failures:
        print(f"cogent-bench: {len(failures)} failure(s):", file=sys.stderr)
        for why in failures:
            print(f"  {why}", file=sys.stderr)
        return 1
    return 0


def render(args, stamp, minutes, loads, command_line, btype, sections, charts_made, failures):
    out = ["# Benchmark results\n\n",
           f"Written by `bench/cogent-bench` on {stamp} in {minutes:.1f} minutes; run it again\n",
           "rather than edit this file (bench/README.md says how to read it). Figures measured\n",
           "earlier, while the runtime was being built, are in [HISTORY.md](HISTORY.md).\n\n"]  # fmt: skip
    if failures:
        out.append("## FAILURES\n\n" + "".join(f"- {why}\n" for why in failures) + "\n")
    named = dict(sections)
    if "targets" in named:
        out.append(named["targets"] + "\n")
    out.append("## How it was measured\n\n")
    for key, value in machine.describe(SOURCE).items():
        out.append(f"- {key}: {value}\n")
    out.append(f"- Build: {btype} (`{os.path.relpath(args.build_dir, SOURCE) if args.build_dir.startswith(SOURCE) else args.build_dir}`)\n")
    out.append(f"- Limits: {machine.limits()}\n")
    out.append(f"- Load average {loads[0]} before, {loads[1]} after the echo sweep\n\n")
    out.append(f"```sh\n{command_line}\n```\n\n")
    if "echo" in named:
        d, w = (max(a, b) for a, b in zip((args.duration, args.warmup), LONG_RUN_S))
        long_run = f"{w} s and {d} s at {LONG_RUN_CONNECTIONS:,} connections and more"
        out.append(
            f"Echo sweep: each server on CPU 0 (`taskset`), `bench/loadgen` on CPU 1; per run\n"
            f"{args.warmup} s warm-up, then {args.duration} s measured ({long_run}), after every connection\n"
            f"was echoed once (ramped up, at most 200 connects in flight); {args.rounds} rounds,\n"
            f"interleaved, each starting with a different contender. Pipelined: {PIPELINE}\n"
            "messages in flight per connection. Server CPU is its utime+stime over loadgen's\n"
            "whole run; messages per server CPU-second divide every message of that run by it.\n\n"
        )  # fmt: skip
    if charts_made:
        out.append("## Charts\n\n")
        for name, title in charts_made:
            out.append(f"![{title}](charts/{name}.svg)\n\n")
    for key in ("echo", "micro", "memory"):
        if key in named:
            out.append(named[key] + "\n")
    return "".join(out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
