"""bench/RESULTS.md: targets, machine, charts, then every table."""

from .contenders import REFERENCE
from .sweep import ratio_spread

# (what, contender, compared with, at least): messages per server CPU-second at 1,000
# connections, 64 B ping-pong.
TARGETS = [
    ("cogent tasks on io_uring ≥ 0.95× the raw io_uring loop", "task_uring", REFERENCE, 0.95),
    ("cogent tasks on io_uring ≥ 1.3× Boost.Asio coroutines", "task_uring", "asio", 1.3),
    ("cogent tasks on io_uring ≥ 2× plain C threads", "task_uring", "threads", 2.0),
    ("cogent greenlets on io_uring ≥ 0.9× the raw io_uring loop", "greenlet_uring", REFERENCE, 0.9),
    ("cogent tasks on epoll ≥ the libev callback server", "task_epoll", "libev", 1.0),
    ("cogent greenlets on epoll ≥ the libev callback server", "greenlet_epoll", "libev", 1.0),
]
TARGET_WORKLOAD = "pingpong-64"
TARGET_CONNECTIONS = 1000


def _num(v, digits=0):
    return f"{v:,.{digits}f}"


def _spread(s, digits=0, unit=""):
    if s is None:
        return "–"
    if s.low == s.high:
        return f"{_num(s.median, digits)}{unit}"
    return f"{_num(s.median, digits)}{unit} ({_num(s.low, digits)}–{_num(s.high, digits)})"


def _duration(s):
    """Nanoseconds in the unit that keeps three or so digits."""
    for unit, scale in (("ms", 1e6), ("µs", 1e3)):
        if s.median >= scale:
            break
    else:
        unit, scale = "ns", 1
    digits = 1 if s.median / scale < 100 else 0
    scaled = type(s)(s.median / scale, s.low / scale, s.high / scale)
    return _spread(scaled, digits, " " + unit)


def _ratio(s):
    if s is None:
        return "–"
    if s.low == s.high:
        return f"{s.median:.2f}×"
    return f"{s.median:.2f}× ({s.low:.2f}–{s.high:.2f})"


def _table(header, rows, align=None):
    align = align or ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell_text(cell, value):
    """A pivot table's entry: the value, or why there is none; ³ marks starved connections."""
    if cell is None:
        return "–"
    if cell.skipped:
        return "not run¹"
    if cell.failures:
        return "**FAILED**"
    return value + ("³" if any(r.starved for r in cell.runs) else "")


def targets_section(sweep, by_name):
    workload = next((w for w in sweep.workloads if w.name == TARGET_WORKLOAD), None)
    rows = []
    for what, mine, other, least in TARGETS:
        verdict, measured = "not measured", "–"
        if workload is None or TARGET_CONNECTIONS not in sweep.connection_counts:
            measured = "this run did not include 1,000 connections of 64 B ping-pong"
        elif mine not in by_name or other not in by_name:
            missing = by_name.get(mine) is None and mine or other
            measured = f"{missing} did not run here"
        else:
            s = ratio_spread(
                sweep.cell(workload, TARGET_CONNECTIONS, by_name[mine]),
                sweep.cell(workload, TARGET_CONNECTIONS, by_name[other]),
                "msgs_per_cpu_s",
            )
            if s is not None:
                measured = _ratio(s)
                verdict = "**MET**" if s.median >= least else "**MISSED**"
        rows.append([what, measured, verdict])
    return (
        "## Targets\n\n"
        "Messages per server CPU-second at 1,000 connections, 64 B ping-pong: the median of the\n"
        "per-round ratios (each round compares runs made minutes apart), with their range.\n\n"
        + _table(["target", "measured", "verdict"], rows, ["---", "---:", "---"])
    )


def echo_section(sweep, all_contenders):
    out = ["## Echo servers\n\n"]
    rows = []
    for c in all_contenders:
        state = f"not run: {c.missing}" if c.missing else "`" + " ".join(_short(a) for a in c.command) + "`"
        rows.append([f"`{c.name}`", c.label, state])
    out.append(_table(["name", "what", "command (`--port 0` appended)"], rows, ["---", "---", "---"]))
    limits = sorted({why for c in sweep.contenders for why in c.limits.values()})
    counts = sweep.connection_counts
    head = ["contender"] + [f"{n:,}" for n in counts]
    for w in sweep.workloads:
        out.append(f"\n### {w.title}\n")
        pivots = [
            ("Messages per server CPU-second, × the raw io_uring loop", "msgs_per_cpu_s", True),
            ("Messages per second, × the raw io_uring loop", "msgs_per_s", True),
            ("Messages per server CPU-second", "msgs_per_cpu_s", False),
            ("Messages per second", "msgs_per_s", False),
            ("p99 latency, µs", "p99_us", False),
        ]
        for title, metric, relative in pivots:
            rows = []
            for c in sweep.contenders:
                row = [c.label]
                for n in counts:
                    cell = sweep.cell(w, n, c)
                    if relative:
                        value = _ratio(sweep.ratio_to_reference(w, n, c, metric))
                    else:
                        s = cell.spread(metric) if cell else None
                        value = _num(s.median) if s else "–"
                    row.append(_cell_text(cell, value))
                rows.append(row)
            out.append(f"\n{title} (median of {sweep.rounds} rounds" + ("; range of the per-round ratios" if relative else "") + "):\n\n")
            out.append(_table(head, rows))
        out.append("\n<details><summary>Every figure of this workload</summary>\n\n")
        for n in counts:
            rows = []
            for c in sweep.contenders:
                cell = sweep.cell(w, n, c)
                if cell.skipped:
                    rows.append([c.label, f"not run: {cell.skipped}"] + [""] * 10)
                    continue
                if cell.failures:
                    rows.append([c.label, "**FAILED**: " + "; ".join(cell.failures)] + [""] * 10)
                    continue
                rows.append([
                    c.label,
                    _spread(cell.spread("msgs_per_s")),
                    _spread(cell.spread("p50_us")),
                    _spread(cell.spread("p99_us")),
                    _spread(cell.spread("p999_us")),
                    _spread(cell.spread("server_cpu_share"), 2),
                    _spread(cell.spread("msgs_per_cpu_s")),
                    _ratio(sweep.ratio_to_reference(w, n, c, "msgs_per_s")),
                    _ratio(sweep.ratio_to_reference(w, n, c, "msgs_per_cpu_s")),
                    _spread(cell.spread("peak_rss_mib"), 1),
                    _spread(cell.spread("threads")),
                    _spread(cell.spread("starved")),
                ])  # fmt: skip
            out.append(f"\n{w.title}, {n:,} connections:\n\n")
            out.append(_table(
                ["contender", "msgs/s", "p50 µs", "p99 µs", "p999 µs", "server CPU (cores)",
                 "msgs per server CPU-s", "msgs/s × raw io_uring", "CPU-s × raw io_uring",
                 "peak RSS MiB", "OS threads", "starved³"], rows))  # fmt: skip
        out.append("\n</details>\n")
    if limits:
        out.append("\n¹ Not run, by design: " + " ".join(limits) + "\n")
    out.append(
        "\n³ Starved: connections that completed no message during the measured period, though\n"
        "every one had been echoed before it (an unfair server leaves some waiting while it serves\n"
        "others). Their bytes were not lost; a starved connection is a figure, not a failure.\n"
    )
    return "".join(out)


def _short(arg):
    """A command argument as the report shows it: paths relative to the build or source tree."""
    for marker in ("/bench/", "/samples/", "/shim/"):
        if marker in arg:
            return arg[arg.index(marker) + 1 :]
    return arg


def micro_section(matrix, diagnostics, commands):
    kinds = ["Task", "Greenlet", "Thread", "Pthread", "BoostContext"]
    present = [k for k in kinds if any(k in row for row in matrix.values())]
    present += sorted({k for row in matrix.values() for k in row} - set(present))

    def entry(variants):
        parts = []
        for variant, r in variants.items():
            value = _duration(r.time_ns)
            parts.append(f"{variant}: {value}" if variant else value)
        return "<br>".join(parts)

    rows = [[op] + [entry(row[k]) if k in row else "–" for k in present] for op, row in matrix.items()]
    out = ["## Micro-benchmarks\n\n",
           "Wall-clock time per iteration, median of the repetitions (min–max); what one\n",
           "iteration is, for each: bench/README.md. `Thread` is `std::thread` and its `std::`\n",
           "primitives, `Pthread` the C calls. Commands:\n\n",
           "```sh\n" + "\n".join(commands) + "\n```\n\n",
           _table(["operation"] + present, rows)]  # fmt: skip
    if diagnostics:
        out.append("\nDiagnostics (the parts a figure above is made of):\n\n")
        out.append(_table(["benchmark", "time"], [[f"`{d.name}`", _duration(d.time_ns)] for d in diagnostics]))
    return "".join(out)


def memory_section(memory, counts, command):
    kinds = [k for k in ("task", "greenlet", "goroutine", "thread") if (k, counts[0]) in memory]
    rows = []
    notes = []
    for k in kinds:
        row = [k]
        for n in counts:
            r = memory[(k, n)]
            tables = f" + {_num(r.pte_bytes_per_item)} B" if r.pte_bytes_per_item >= 8 else ""
            if r.parked < r.requested:
                row.append(f"{_num(r.bytes_per_item)} B{tables} at {r.parked:,}²" if r.parked else "none²")
                notes.append(f"{k}s at {n:,}: {r.error}")
            else:
                row.append(f"{_num(r.bytes_per_item)} B{tables}")
        rows.append(row)
    out = ["## Memory\n\n",
           "Growth of the process's resident memory (VmRSS) per idle item, each kind parked in its\n",
           "own child process (tasks and greenlets in a 24 h sleep, threads on a condition variable,\n",
           "goroutines on a channel), then the page tables it grew by (VmPTE, which VmRSS leaves out).\n",
           "The kernel's own stack per OS thread (16 KiB on x86-64) is in neither.\n\n",
           f"```sh\n{command}\n```\n\n",
           _table(["kind"] + [f"{n:,}" for n in counts], rows)]  # fmt: skip
    if notes:
        out.append("\n² Stopped by a limit of this machine: " + "; ".join(notes) + "\n")
    return "".join(out)
