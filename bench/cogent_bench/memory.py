"""Resident memory per idle task, greenlet, thread and goroutine, at each count."""

import json
import os
import subprocess
from dataclasses import dataclass

KINDS = ("task", "greenlet", "thread", "goroutine")


@dataclass
class MemoryResult:
    kind: str
    requested: int
    parked: int
    bytes_per_item: float
    pte_bytes_per_item: float
    rss_after_kib: int
    error: str  # a limit met before `requested` (the row says so), else ""


class MemoryError_(Exception):
    pass


def _json_lines(command):
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise MemoryError_(f"{' '.join(command)}: status {done.returncode}: {done.stderr.strip()[-300:]}")
    lines = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise MemoryError_(f"{' '.join(command)}: no JSON line in its output")
    return lines


def _result(line):
    pte = line.get("pte_bytes_per_item")
    if pte is None and line.get("parked"):
        pte = (line.get("pte_after_kib", 0) - line.get("pte_before_kib", 0)) * 1024 / line["parked"]
    return MemoryResult(
        kind=line["kind"],
        requested=int(line["requested"]),
        parked=int(line["parked"]),
        bytes_per_item=float(line["bytes_per_item"]),
        pte_bytes_per_item=float(pte or 0),
        rss_after_kib=int(line.get("rss_after_kib", 0)),
        error=line.get("error", ""),
    )


def measure(build, counts, go_idle_available):
    """{(kind, count): MemoryResult}; every kind at every count, goroutines if Go was built."""
    memory_bench = os.path.join(build, "bench", "cogent_memory_bench")
    go_idle = os.path.join(build, "bench", "go_idle")
    results = {}
    for n in counts:
        command = [memory_bench, "--json", "--greenlets", str(n), "--tasks", str(n),
                   "--threads", str(n), "--bulk-tasks", "0"]  # fmt: skip
        for line in _json_lines(command):
            r = _result(line)
            if r.kind in KINDS:
                results[(r.kind, n)] = r
        if go_idle_available:
            results[("goroutine", n)] = _result(_json_lines([go_idle, "--goroutines", str(n)])[-1])
    for kind in KINDS[:3]:
        for n in counts:
            if (kind, n) not in results:
                raise MemoryError_(f"{memory_bench} reported no '{kind}' measurement at {n}")
    return results
