"""One measured run: a server started on CPU 0, loadgen against it on CPU 1, the server stopped."""

import json
import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_S = 10  # gevent imports for a while; a server that needs longer has failed
STOP_TIMEOUT_S = 5
SETTLE_S = 30  # loadgen's settle phase: at most this long to echo every connection once


@dataclass
class Workload:
    name: str  # "pingpong-64", "pipelined-4096"...
    size: int
    pipeline: int

    @property
    def title(self):
        kind = "ping-pong" if self.pipeline == 1 else f"pipelined ×{self.pipeline}"
        size = f"{self.size // 1024} KiB" if self.size >= 1024 else f"{self.size} B"
        return f"{kind}, {size}"


@dataclass
class RunResult:
    ok: bool
    failure: str = ""  # why not ok
    msgs_per_s: float = 0.0
    p50_us: float = 0.0
    p99_us: float = 0.0
    p999_us: float = 0.0
    total_msgs: int = 0
    server_cpu_s: float = 0.0
    wall_s: float = 0.0  # loadgen's whole run, over which server_cpu_s was taken
    peak_rss_kib: int = 0
    threads: int = 0
    loadgen_cpu: float = 0.0
    starved: int = 0  # connections that completed no message in the measured period
    raw: dict = field(default_factory=dict)

    @property
    def msgs_per_cpu_s(self):
        return self.total_msgs / self.server_cpu_s if self.server_cpu_s > 0 else 0.0

    @property
    def peak_rss_mib(self):
        return self.peak_rss_kib / 1024

    @property
    def server_cpu_share(self):
        return self.server_cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def _pinned(cpu, command):
    return (["taskset", "-c", str(cpu)] + command) if os.cpu_count() >= 2 else command


def _cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of the line


def _status(pid):
    values = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                values[key] = value.split()[0] if value.split() else ""
    except OSError:
        pass
    return values


def _raise_nofile():
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """A server process; `port` once it printed `listening on N`."""

    def __init__(self, command, workdir):
        self.err_path = os.path.join(workdir, "server.err")
        self.err = open(self.err_path, "w+b")
        self.process = subprocess.Popen(
            _pinned(0, command + ["--port", "0"]),
            stdout=subprocess.PIPE,
            stderr=self.err,
            stdin=subprocess.DEVNULL,
            preexec_fn=_raise_nofile,
        )
        self.port = self._read_port()

    def _read_port(self):
        os.set_blocking(self.process.stdout.fileno(), False)
        seen = b""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            chunk = self.process.stdout.read()
            if chunk:
                seen += chunk
                match = re.search(rb"listening on (\d+)", seen)
                if match:
                    return int(match.group(1))
            if self.process.poll() is not None:
                return None
            time.sleep(0.02)
        return None

    def first_error_line(self):
        with open(self.err_path, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        return f"{lines[0][:160]}" + (f" (+{len(lines) - 1} lines)" if len(lines) > 1 else "") if lines else ""

    def stop(self):
        """SIGTERM, then up to STOP_TIMEOUT_S; "" when it exited with status 0, else why not."""
        why = ""
        if self.process.poll() is not None:
            why = f"server exited early with status {self.process.returncode}"
        else:
            self.process.send_signal(signal.SIGTERM)
            try:
                status = self.process.wait(STOP_TIMEOUT_S)
                if status != 0:
                    why = f"server exited with status {status} on SIGTERM"
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                why = f"server did not exit within {STOP_TIMEOUT_S} s of SIGTERM"
        self.process.stdout.close()
        self.err.close()
        return why


def run_once(loadgen, command, workload, connections, duration_s, warmup_s):
    """Starts the server, loads it, stops it. Never raises for a failing contender: the result
    says what went wrong."""
    with tempfile.TemporaryDirectory(prefix="cogent-bench.") as workdir:
        try:
            server = Server(command, workdir)
        except OSError as e:
            return RunResult(False, f"server did not start: {e}")
        if server.port is None:
            why = server.stop() or "server printed no 'listening on N'"
            note = server.first_error_line()
            return RunResult(False, f"did not start within {START_TIMEOUT_S} s: {why}" + (f"; {note}" if note else ""))
        pid = server.process.pid
        args = [
            loadgen, "--port", str(server.port), "--connections", str(connections),
            "--size", str(workload.size), "--pipeline", str(workload.pipeline),
            "--duration", str(duration_s), "--warmup", str(warmup_s),
            "--settle", str(SETTLE_S), "--starved-ok", "--json",
        ]  # fmt: skip
        timeout = duration_s + warmup_s + SETTLE_S + 60
        before = _cpu_ticks(pid)
        started = time.monotonic()
        try:
            done = subprocess.run(_pinned(1, args), capture_output=True, timeout=timeout, text=True)
            loadgen_status, out, err = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as e:
            loadgen_status, out, err = "timeout", e.stdout or "", e.stderr or ""
            out = out.decode() if isinstance(out, bytes) else out
            err = err.decode() if isinstance(err, bytes) else err
        wall = time.monotonic() - started
        try:
            after = _cpu_ticks(pid)
        except OSError:
            after = before
        status = _status(pid)
        stop_problem = server.stop()
        server_note = server.first_error_line()

        report = {}
        for line in out.splitlines():
            if line.startswith("{"):
                report = json.loads(line)
        result = RunResult(
            True,
            msgs_per_s=report.get("msgs_per_s", 0.0),
            p50_us=report.get("p50_us", 0),
            p99_us=report.get("p99_us", 0),
            p999_us=report.get("p999_us", 0),
            total_msgs=report.get("total_msgs", 0),
            server_cpu_s=(after - before) / CLOCK_TICKS,
            wall_s=wall,
            peak_rss_kib=int(status.get("VmHWM", 0) or 0),
            threads=int(status.get("Threads", 0) or 0),
            loadgen_cpu=report.get("loadgen_cpu", 0.0),
            starved=report.get("starved", 0),
            raw=report,
        )
        problems = []
        if loadgen_status == "timeout":
            problems.append(f"loadgen did not finish within {timeout:.0f} s")
        elif loadgen_status != 0 or report.get("errors", 0) != 0 or not report:
            kinds = ["connect_failures", "resets", "mismatches", "short_connections", "stalled"]
            counts = [f"{report[k]} {k.replace('_', ' ')}" for k in kinds if report.get(k)]
            first = next((l for l in err.splitlines() if l.startswith("loadgen: ")), "")
            problems.append(
                f"loadgen status {loadgen_status}"
                + (f": {', '.join(counts)}" if counts else "")
                + (f" ({first[:160]})" if first else "")
            )
        if report and report.get("total_msgs", 0) == 0:
            problems.append("no message was echoed")
        if stop_problem:
            problems.append(stop_problem)
        if problems:
            result.ok = False
            result.failure = "; ".join(problems) + (f"; server stderr: {server_note}" if server_note else "")
        return result
