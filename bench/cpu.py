"""CPU accounting shared by the HTTP benches: whose CPU a phase of a bench
used (the server's processes, the bench database's PostgreSQL, the load
generator, the whole machine), read from the process table."""

from __future__ import annotations

import time
from pathlib import Path

import asyncpg
import psutil


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:  # gone meanwhile: its time is not counted
        return 0.0
    return float(times.user + times.system)


def cpu_seconds(server_pid: int, postmaster_pid: int) -> dict[str, float]:
    """Cumulative CPU seconds (user + system) of the server's processes, of the
    bench database's PostgreSQL (its postmaster and every backend), of this
    load generator, and of the whole machine (every core, less idle and I/O
    wait; other work on the machine included)."""
    server = psutil.Process(server_pid)
    postmaster = psutil.Process(postmaster_pid)
    machine = psutil.cpu_times()
    return {
        "server": sum(map(_cpu, [server, *server.children(recursive=True)])),
        "postgres": sum(map(_cpu, [postmaster, *postmaster.children(recursive=True)])),
        "load_generator": time.process_time(),
        "machine": sum(machine) - machine.idle - getattr(machine, "iowait", 0.0),
    }


async def postmaster_pid(conn: asyncpg.Connection) -> int:
    """The pid of the server `conn` is connected to (its postmaster.pid file)."""
    data_directory = await conn.fetchval("SHOW data_directory")
    return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])


def cpu_per_request(
    before: dict[str, float], after: dict[str, float], requests: int
) -> dict[str, float]:
    """Milliseconds of CPU per answered request, by whose CPU it was."""
    return {k: round((after[k] - before[k]) * 1000 / max(1, requests), 3) for k in before}


def cores_used(
    before: dict[str, float], after: dict[str, float], seconds: float
) -> dict[str, float]:
    """Cores each kept busy on average over a phase of `seconds` (1.0: one
    core all the time, the most a single-threaded Python process can use)."""
    return {k: round((after[k] - before[k]) / max(seconds, 1e-9), 2) for k in before}
