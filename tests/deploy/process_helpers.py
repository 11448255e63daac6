"""Running warnex as separate processes, as deploy/ does: ports, the
environment, `warnex serve` processes and the CLI, and waiting for what their
consumers do (tests/deploy/test_separate_services.py, test_backup_restore.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.services.warning_ingest.ingest_helpers import person

ROOT = Path(__file__).resolve().parents[2]
PREFIXES = {
    "warning_ingest": "/ingest/v1",
    "identification": "/identification/v1",
    "assistance": "/assistance/v1",
    "reporting": "/reporting/v1",
}
COUNTY = "610326000000"
VILLAGE = "610326100201"
STAFF_OPTIONS = ("--role", "county_staff", "--region", COUNTY, "--name", "县级干部")
REGIONS_CSV = (
    "code,name\n610000000000,陕西省\n610300000000,宝鸡市\n610326000000,眉县\n"
    "610326100000,首善街道\n610326100201,城关村\n"
)


# --------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def warnex_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """A production-like environment: an external database and the tests' secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARNEX_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=database_url,
        WARNEX_SECRET_KEY=os.environ["WARNEX_SECRET_KEY"],
        WARNEX_DATA_DIR=str(data_dir),
        WARNEX_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def warnex_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "shared.cli", *args]


class Servers:
    """`warnex serve --service X` processes, each on a port of its own."""

    def __init__(self) -> None:
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}
        self.logs: dict[str, Path] = {}

    def start(self, key: str, service: str, env: dict[str, str], log_dir: Path) -> None:
        port = free_port()
        log = log_dir / f"{key}.log"
        with log.open("wb") as handle:
            self.processes[key] = subprocess.Popen(
                warnex_command("serve", "--service", service, "--port", str(port)),
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=handle,
            )
        self.ports[key], self.logs[key] = port, log

    def url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.ports[key]}"

    async def ready(self, key: str, prefix: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url(key), timeout=2) as client:
            while time.monotonic() < deadline:
                if self.processes[key].poll() is not None:
                    raise AssertionError(f"{key} exited: {self.logs[key].read_text()[-2000:]}")
                try:
                    response = await client.get(f"{prefix}/readyz")
                    if response.status_code == 200:
                        return dict(response.json())
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"{key} was not ready in {timeout} s")

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def run_cli(env: dict[str, str], *args: str) -> str:
    """Run a `warnex` command; return its standard output (a token is its last line)."""
    process = await asyncio.create_subprocess_exec(
        *warnex_command(*args),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 120)
    except TimeoutError:
        process.kill()
        _, err = await process.communicate()
        raise AssertionError(f"warnex {' '.join(args[:2])} hung: {err.decode()[-2000:]}") from None
    assert process.returncode == 0, err.decode()[-2000:]
    return out.decode()


async def poll(
    check: Callable[[], Any], *, what: str, timeout: float = 60, every: float = 0.3
) -> Any:
    """Call `check` until it answers something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


async def consumed(url: str, check: Callable[[], Any], *, what: str) -> Any:
    """`poll` for something the event consumers make.

    Consumers read only below the oldest running transaction of the whole
    server (shared/events.py), another database's included. When such a
    transaction outlived the wait, nothing this test does could pass on that
    server (a shared one, where someone's test hangs): skip, saying so.
    """
    try:
        return await poll(check, what=what)
    except AssertionError as exc:
        conn = await asyncpg.connect(url)
        try:
            row = await conn.fetchrow(
                "SELECT datname, datname = current_database() AS ours,"
                " extract(epoch FROM now() - xact_start)::int AS age"
                " FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                " ORDER BY xact_start LIMIT 1"
            )
        finally:
            await conn.close()
        if row is not None and not row["ours"] and row["age"] > 60:
            pytest.skip(
                f"{exc}: a transaction on {row['datname']} has been open for {row['age']} s"
                " and holds back every event consumer on this server"
            )
        raise


# ---------------------------------------------------------------- the flow


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def household(household_id: str, seq: int, name: str) -> dict[str, Any]:
    return {
        "household_id": household_id,
        "region_code": VILLAGE,
        "category": "general",
        "head_name": name,
        "members": [
            {"id_number": person(seq), "name": name, "relation": "head", "labour_capacity": "full"}
        ],
    }


def medical_record(source_record_id: str, seq: int, name: str) -> dict[str, Any]:
    # 50,000 yuan: above the medical-expense threshold of every category (18,684 at most).
    return {
        "source_record_id": source_record_id,
        "warning_type": "high_medical_expense",
        "id_number": person(seq),
        "name": name,
        "region_code": VILLAGE,
        "amount_yuan": 50000,
    }
