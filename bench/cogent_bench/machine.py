"""What the report says about the machine a run was made on."""

import os
import platform
import subprocess


def _first(command):
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.strip().splitlines()[0] if out.strip() else ""


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _meminfo_gib(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _debian():
    try:
        with open("/etc/debian_version") as f:
            return "Debian " + f.read().strip()
    except OSError:
        return platform.platform()


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def describe(source):
    virtual = "hypervisor" in open("/proc/cpuinfo").read()
    commit = _first(["git", "-C", source, "rev-parse", "--short", "HEAD"]) or "unknown"
    if _first(["git", "-C", source, "status", "--porcelain", "--untracked-files=no"]):
        commit += " (with uncommitted changes)"
    go = _first(["go", "version"])
    gevent = _first(["/usr/bin/python3", "-c", "import gevent; print(gevent.__version__)"])
    return {
        "CPU": f"{_cpu_model()}, {os.cpu_count()} CPUs" + (", virtual machine" if virtual else ""),
        "Memory": f"{_meminfo_gib('MemTotal'):.1f} GiB",
        "Kernel": platform.release(),
        "System": _debian(),
        "Compiler": _first(["c++", "--version"]),
        "Go": go or "not installed",
        "gevent": gevent or "not installed",
        "Commit": commit,
    }


def limits():
    def read(path):
        try:
            return open(path).read().strip()
        except OSError:
            return "-"

    import resource

    return (
        f"RLIMIT_NOFILE {resource.getrlimit(resource.RLIMIT_NOFILE)[1]} (hard), threads-max "
        f"{read('/proc/sys/kernel/threads-max')}, vm.max_map_count "
        f"{read('/proc/sys/vm/max_map_count')}"
    )


