"""Google Benchmark binaries, run with repetitions; medians and ranges per benchmark. Benchmarks
named BM_<Operation>_<Kind> form the matrix (operation × task, greenlet, thread, peer); the rest
are diagnostics, listed on their own."""

import json
import re
import subprocess
from dataclasses import dataclass

from .stats import Spread

# BM_<Operation>_<Kind>, then Google Benchmark's /arguments and /real_time.
MATRIX_NAME = re.compile(r"^BM_([A-Za-z]+)_([A-Za-z]+)((?:/[^/]+)*)$")


@dataclass
class MicroResult:
    binary: str
    name: str
    time_ns: Spread  # wall-clock per iteration, over the repetitions


class MicroError(Exception):
    pass


def run_binary(path, repetitions, min_time_s, extra=()):
    command = [
        path,
        "--benchmark_format=json",
        f"--benchmark_repetitions={repetitions}",
        f"--benchmark_min_time={min_time_s}",
        *extra,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise MicroError(f"{' '.join(command)}: status {done.returncode}: {done.stderr.strip()[-300:]}")
    report = json.loads(done.stdout)
    samples = {}
    order = []
    for b in report["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        if b.get("error_occurred"):
            raise MicroError(f"{path}: {b['name']}: {b.get('error_message', 'error')}")
        name = b.get("run_name", b["name"])
        scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        if name not in samples:
            samples[name] = []
            order.append(name)
        samples[name].append(b["real_time"] * scale)
    binary = path.rsplit("/", 1)[-1]
    return [MicroResult(binary, name, Spread.of(samples[name])) for name in order]


def split_matrix(results):
    """({operation: {kind: {variant: result}}}, [diagnostic results]). A kind measured in
    several variants (benchmark arguments) has one entry per variant; a plain one has "".
    """
    matrix, diagnostics = {}, []
    for r in results:
        m = MATRIX_NAME.match(r.name)
        if m:
            variant = "/".join(a for a in m.group(3).split("/") if a and a != "real_time")
            matrix.setdefault(m.group(1), {}).setdefault(m.group(2), {})[variant] = r
        else:
            diagnostics.append(r)
    return matrix, diagnostics
