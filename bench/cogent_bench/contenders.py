"""The echo servers of the sweep: what each one is, and how to start it."""

import os
import shutil
import subprocess
from dataclasses import dataclass, field

# The reference every figure is also given as a ratio to.
REFERENCE = "raw_uring"


@dataclass
class Contender:
    name: str
    label: str  # for tables and charts
    command: list  # `--port 0` is appended
    family: str  # "cogent", "peer" or "threads": the charts' line styles
    missing: str = ""  # why it cannot run here ("" when it can)
    # connection counts this contender is not run at, each with the reason the report prints
    limits: dict = field(default_factory=dict)


def _gevent_python():
    python = "/usr/bin/python3"
    if not os.access(python, os.X_OK):
        return None
    probe = subprocess.run([python, "-c", "import gevent"], capture_output=True)
    return python if probe.returncode == 0 else None


def all_contenders(build, source):
    """Every contender, in the order of the tables; `missing` says which cannot run here."""
    bench = os.path.join(build, "bench")
    echo_server = os.path.join(build, "samples", "echo_server")
    threaded = os.path.join(bench, "threaded_echo_server")
    launcher = os.path.join(build, "shim", "cogent")

    def cogent_server(mode, backend):
        return Contender(
            f"{mode}_{backend}",
            f"cogent {mode}s, {'io_uring' if backend == 'uring' else 'epoll'}",
            [echo_server, "--mode", mode, "--backend", backend],
            "cogent",
        )

    contenders = [
        Contender(REFERENCE, "raw io_uring loop", [os.path.join(bench, "raw_uring_echo")], "peer"),
        cogent_server("task", "uring"),
        cogent_server("greenlet", "uring"),
        Contender("raw_epoll", "raw epoll loop", [os.path.join(bench, "raw_epoll_echo")], "peer"),
        cogent_server("task", "epoll"),
        cogent_server("greenlet", "epoll"),
        Contender("libev", "libev callbacks", [os.path.join(bench, "libev_echo")], "peer"),
        Contender("asio", "Boost.Asio coroutines", [os.path.join(bench, "asio_echo")], "peer"),
        Contender("go", "Go goroutines", [os.path.join(bench, "go_echo")], "peer"),
        Contender(
            "gevent",
            "gevent StreamServer",
            ["/usr/bin/python3", os.path.join(source, "bench", "peers", "gevent_echo.py")],
            "peer",
        ),
        Contender("threads", "C threads, native", [threaded], "threads"),
        Contender(
            "threads_shim",
            "C threads, shim (io_uring)",
            [launcher, "run", "--backend", "uring", "--", threaded],
            "threads",
        ),
    ]
    for c in contenders:
        if c.name == "go" and not os.access(c.command[0], os.X_OK):
            c.missing = (
                "not built: Go (Debian golang-go) not found when configuring"
                if shutil.which("go") is None
                else f"{c.command[0]} missing (build target go_echo)"
            )
        elif c.name == "gevent":
            if _gevent_python() is None:
                c.missing = "python3-gevent is not installed"
        elif c.name == "asio" and not os.access(c.command[0], os.X_OK):
            c.missing = "not built: Boost 1.81 headers (libboost1.81-dev) not found"
        elif not os.access(c.command[0], os.X_OK):
            c.missing = f"{c.command[0]} missing: build it first"
    return contenders
