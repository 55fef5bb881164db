"""Charts drawn by gnuplot (Debian's gnuplot-nox) as SVG: throughput, server CPU efficiency and p99
latency against connections, one panel per workload; memory per idle task, greenlet, thread."""

import os
import shutil
import subprocess
import tempfile

# One colour per contender, fixed so a contender looks the same in every chart.
COLOURS = {
    "raw_uring": "#000000", "task_uring": "#d62728", "greenlet_uring": "#ff7f0e",
    "raw_epoll": "#7f7f7f", "task_epoll": "#1f77b4", "greenlet_epoll": "#17becf",
    "libev": "#8c564b", "asio": "#9467bd", "go": "#2ca02c", "gevent": "#bcbd22",
    "threads": "#e377c2", "threads_shim": "#7b4173",
}  # fmt: skip
DASH = {"cogent": 1, "peer": 2, "threads": 3}
WIDTH = {"cogent": 2.5, "peer": 1.5, "threads": 1.5}


class ChartError(Exception):
    pass


def available():
    return shutil.which("gnuplot") is not None


def _gnuplot(script, workdir):
    path = os.path.join(workdir, "chart.gp")
    with open(path, "w") as f:
        f.write(script)
    done = subprocess.run(["gnuplot", path], capture_output=True, text=True)
    if done.returncode != 0:
        raise ChartError(f"gnuplot: {done.stderr.strip()[-400:]}")


def _terminal(path, panels):
    rows = (panels + 1) // 2
    size = f"{1200},{430 * rows + 60}"
    if path.endswith(".png"):
        return f"set terminal pngcairo size {size} noenhanced font 'sans,10' background '#ffffff'\n"
    return f"set terminal svg size {size} dynamic noenhanced font 'sans,11' background '#ffffff'\n"


def line_chart(path, sweep, metric, ylabel, title, log_y=False):
    """One panel per workload: `metric` (a RunResult attribute, median over rounds) against
    connections, one line per contender; a failed or skipped cell is a gap."""
    with tempfile.TemporaryDirectory(prefix="cogent-bench-chart.") as workdir:
        panels = len(sweep.workloads)
        script = [_terminal(path, panels), f"set output '{path}'\n"]
        # The panels take the left 78 %; one legend, drawn with the first panel, the rest.
        script.append(
            f"set multiplot layout {(panels + 1) // 2},2 title '{title}' font 'sans,14' "
            "margins 0.06,0.78,0.07,0.91 spacing 0.07,0.11\n"
        )
        script.append("set logscale x 10\nset grid\n")
        script.append("set key at screen 0.995,0.9 right top font 'sans,10' spacing 1.2\n")
        script.append("set xlabel 'connections'\n")
        # Linear axes in thousands: '%.0s%c' would print 1.5M and 1.0M both as "1M".
        scale = 1 if log_y else 1e-3
        unit = "" if log_y else " (thousands)"
        script.append(f"set ylabel '{ylabel}{unit}'\n")
        script.append("set logscale y 10\nset format y '%.0s%c'\n" if log_y else "set yrange [0:*]\nset format y '%.0f'\n")
        script.append("set datafile missing 'NaN'\n")
        counts = sweep.connection_counts
        script.append(f"set xrange [{counts[0] / 1.5}:{counts[-1] * 1.5}]\n")
        for w in sweep.workloads:
            plots = []
            for c in sweep.contenders:
                data = os.path.join(workdir, f"{w.name}-{c.name}.dat")
                with open(data, "w") as f:
                    for n in counts:
                        cell = sweep.cell(w, n, c)
                        s = cell.spread(metric) if cell else None
                        f.write(f"{n} {s.median * scale if s else 'NaN'}\n")
                plots.append(
                    f"'{data}' using 1:2 with linespoints lw {WIDTH[c.family]} "
                    f"dt {DASH[c.family]} lc rgb '{COLOURS.get(c.name, '#444444')}' pt 7 ps 0.5 "
                    f"title '{c.label}'"
                )
            script.append(f"set title '{w.title}'\nplot " + ", \\\n  ".join(plots) + "\n")
            script.append("unset key\n")
        script.append("unset multiplot\n")
        _gnuplot("".join(script), workdir)


def memory_chart(path, memory, counts):
    """Bytes per idle item, grouped by kind, one bar per count; log scale (tasks and threads
    differ by orders of magnitude)."""
    kinds = [k for k in ("task", "greenlet", "goroutine", "thread") if (k, counts[0]) in memory]
    with tempfile.TemporaryDirectory(prefix="cogent-bench-chart.") as workdir:
        data = os.path.join(workdir, "memory.dat")
        with open(data, "w") as f:
            f.write("kind " + " ".join(f'"{n:,}"' for n in counts) + "\n")
            for k in kinds:
                values = []
                for n in counts:
                    r = memory.get((k, n))
                    values.append(f"{r.bytes_per_item:.0f}" if r and r.parked > 0 else "NaN")
                f.write(f"{k} " + " ".join(values) + "\n")
        script = (
            _terminal(path, 1).replace("1200", "800").replace("490", "480")
            + f"set output '{path}'\n"
            + "set title 'Resident memory per idle task, greenlet, goroutine and thread' font 'sans,13'\n"
            + "set style data histograms\nset style histogram clustered gap 1\n"
            + "set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
            + "set logscale y 2\nset yrange [128:*]\nset grid ytics\n"
            + "set ylabel 'bytes of RSS per idle item'\nset format y '%.0b %BB'\n"
            + "set key top left title 'count'\nset datafile missing 'NaN'\n"
            + f"plot for [i=2:{len(counts) + 1}] '{data}' using i:xtic(1) title columnheader(i)\n"
        )
        _gnuplot(script, workdir)
