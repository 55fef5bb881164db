"""The echo sweep: every contender at every connection count and workload, in rounds. Within a
cell (workload × connections) the contenders run one after another, round after round, each round
starting with a different contender, so that whatever else the machine does hits them alike."""

from dataclasses import dataclass, field

from .contenders import REFERENCE
from .echo_run import run_once
from .stats import Spread

LONG_RUN_CONNECTIONS = 10_000
LONG_RUN_S = (2.0, 0.5)


@dataclass
class Cell:
    """One contender at one connection count of one workload, over the rounds."""

    runs: list = field(default_factory=list)  # RunResult per round
    skipped: str = ""  # why it was not run (a limit the report states)

    @property
    def failures(self):
        return [r.failure for r in self.runs if not r.ok]

    def spread(self, metric):
        return Spread.of([getattr(r, metric) for r in self.runs if r.ok])


@dataclass
class Sweep:
    workloads: list
    connection_counts: list
    contenders: list  # runnable ones
    rounds: int
    duration_s: float
    warmup_s: float
    cells: dict = field(default_factory=dict)  # (workload name, connections, contender) -> Cell

    def timing(self, connections):
        """(measured s, warm-up s) at this many connections: at 10,000 a round over every
        connection takes up to a second (16 × 4 KiB each is 655 MB in flight), so those runs are
        longer, and each connection completes several messages in the measured period."""
        if connections >= LONG_RUN_CONNECTIONS:
            return max(self.duration_s, LONG_RUN_S[0]), max(self.warmup_s, LONG_RUN_S[1])
        return self.duration_s, self.warmup_s

    def cell(self, workload, connections, contender):
        return self.cells.get((workload.name, connections, contender.name))

    def ratio_to_reference(self, workload, connections, contender, metric):
        """The median over rounds of contender / reference, each round against its own
        reference run (drift between rounds cancels out)."""
        mine = self.cell(workload, connections, contender)
        ref = self.cells.get((workload.name, connections, REFERENCE))
        return ratio_spread(mine, ref, metric)

    def failures(self):
        out = []
        for (workload, connections, name), cell in self.cells.items():
            for why in cell.failures:
                out.append(f"{name} at {connections} connections, {workload}: {why}")
        return out


def ratio_spread(mine, other, metric):
    if mine is None or other is None:
        return None
    pairs = zip(mine.runs, other.runs)
    return Spread.of(
        [
            getattr(a, metric) / getattr(b, metric)
            for a, b in pairs
            if a.ok and b.ok and getattr(b, metric) > 0
        ]
    )


def run_sweep(sweep, loadgen, progress):
    runs_per_cell = sweep.rounds
    for workload in sweep.workloads:
        for connections in sweep.connection_counts:
            contenders = []
            for c in sweep.contenders:
                cell = Cell()
                sweep.cells[(workload.name, connections, c.name)] = cell
                if connections in c.limits:
                    cell.skipped = c.limits[connections]
                else:
                    contenders.append(c)
            for round_index in range(runs_per_cell):
                shift = round_index % max(1, len(contenders))
                for c in contenders[shift:] + contenders[:shift]:
                    what = f"{workload.title}, {connections} conns, {c.name} (round {round_index + 1})"
                    progress.step(what)
                    result = run_once(loadgen, c.command, workload, connections, *sweep.timing(connections))
                    sweep.cells[(workload.name, connections, c.name)].runs.append(result)
                    if result.ok:
                        outcome = (
                            f"{what}: {result.msgs_per_s:,.0f} msgs/s, p99 {result.p99_us:.0f} µs, "
                            f"{result.msgs_per_cpu_s:,.0f} msgs per server CPU-s"
                        )
                    else:
                        outcome = f"{what}: FAILED: {result.failure}"
                        progress.say(f"cogent-bench: FAILED: {outcome}")
                    progress.finish_step(outcome)
