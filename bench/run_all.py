"""Every issue-6 benchmark in turn: `python bench/run_all.py [--quick] [--only NAME,...]`.

Runs `ingest`, `push_rps`, `queries` and `scan` one after the other, each as
its own process with its default (full) sizes, small ones with `--quick`
(a minute or a few each), or tiny ones with `--smoke` (does each still run?),
and prints one JSON object keyed by bench
name with each bench's last JSON line (`{"error": ...}` for one that failed),
plus `_meta`: the date, the machine and its load when the run started.
A bench's progress goes to stderr as it runs.

Each bench starts its own embedded PostgreSQL. With DATABASE_URL set, each
gets instead a fresh database of its own on that server (created here and
dropped afterwards), since they would trip over each other's rows in one.

`make bench` and `make bench-quick` run this. Exits 1 if any bench failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from database import fresh_database

from shared.db import plain_url

HERE = Path(__file__).resolve().parent
BENCHES = ("ingest", "push_rps", "queries", "scan")
QUICK: dict[str, list[str]] = {
    "ingest": ["--records", "10000", "--households", "10000"],
    "push_rps": ["--seconds", "5", "--households", "2000"],
    "queries": ["--size", "county", "--requests", "20"],
    "scan": ["--cases", "100000", "--newly-due", "10000"],
}
# Tiny sizes that only check that every bench runs (a minute or two in all).
SMOKE: dict[str, list[str]] = {
    "ingest": ["--records", "2000", "--households", "1000"],
    "push_rps": ["--clients", "5", "--seconds", "3", "--households", "500"],
    "queries": ["--size", "tiny", "--requests", "10"],
    "scan": ["--cases", "5000", "--newly-due", "500"],
}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    memory_gb = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kib = int(meminfo.read_text().split()[1])
        memory_gb = round(total_kib / 1024 / 1024, 1)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "system": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded",
    }


def last_json(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


async def _drop(server_url: str, url: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        name = url.rsplit("/", 1)[1].split("?")[0]
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def run_one(name: str, options: list[str], timeout: float | None) -> dict[str, Any]:
    env = dict(os.environ)
    server_url = plain_url(os.environ["DATABASE_URL"]) if os.environ.get("DATABASE_URL") else None
    url = asyncio.run(fresh_database(server_url)) if server_url else None
    if url:
        env["DATABASE_URL"] = url
    command = [sys.executable, str(HERE / f"{name}.py"), *options]
    print(f"== {name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, env=env, stdout=subprocess.PIPE, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    finally:
        if server_url and url:
            asyncio.run(_drop(server_url, url))
    outcome = last_json(done.stdout)
    if done.returncode != 0 or outcome is None:
        return {"error": f"exit code {done.returncode}", "stdout_tail": done.stdout[-500:]}
    print(f"== {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="small sizes, for a quick look")
    sizes.add_argument("--smoke", action="store_true", help="tiny sizes: does every bench run?")
    parser.add_argument("--only", default=",".join(BENCHES), help="benches to run, comma-separated")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per bench at most")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(BENCHES))
    if unknown:
        parser.error(f"unknown bench(es): {', '.join(unknown)}; known: {', '.join(BENCHES)}")
    size = "quick" if args.quick else "smoke" if args.smoke else "full"
    full: dict[str, list[str]] = {n: [] for n in BENCHES}
    options = {"quick": QUICK, "smoke": SMOKE, "full": full}[size]
    results: dict[str, Any] = {"_meta": {**machine(), "sizes": size}}
    for name in names:
        results[name] = run_one(name, options[name], args.timeout)
    print(orjson.dumps(results).decode())
    if any("error" in results[name] for name in names):
        sys.exit(1)


if __name__ == "__main__":
    main()
