"""`warnex serve` as a newcomer runs it: no DATABASE_URL, a fresh data directory."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data_dir: Path, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARNEX_", "DATABASE_URL"))}
    env["WARNEX_DATA_DIR"] = str(data_dir)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "exited")
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/identification/v1/readyz", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("warnex serve did not become ready")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def _execute(data_dir: Path, sql: str) -> object:
    conn = await asyncpg.connect(f"postgresql://postgres@/warnex?host={data_dir / 'pgdata'}")
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


@pytest.mark.skipif(sys.platform == "win32", reason="the embedded server listens on a Unix socket")
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_starts_on_a_fresh_data_directory_and_keeps_data_across_a_restart(tmp_path, workers):
    data_dir = tmp_path / "warnex-data"
    port = _free_port()
    first = _serve(data_dir, port, workers)
    try:
        ready = _wait_ready(port, first)
        assert ready.json()["status"] == "ready"
        for prefix in ("/ingest/v1", "/assistance/v1", "/reporting/v1"):
            assert httpx.get(f"http://127.0.0.1:{port}{prefix}/healthz").status_code == 200
        asyncio.run(
            _execute(
                data_dir,
                "INSERT INTO regions (code, name, level) VALUES ('610326000000', '眉县', 'county')",
            )
        )
        assert (data_dir / "secret.key").stat().st_mode & 0o777 == 0o600
        secret = (data_dir / "secret.key").read_text()
    finally:
        _stop(first)
    # Several server processes too: the embedded server stops with `warnex serve`.
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()

    second = _serve(data_dir, port)
    try:
        _wait_ready(port, second)
        name = asyncio.run(
            _execute(data_dir, "SELECT name FROM regions WHERE code = '610326000000'")
        )
        assert name == "眉县"
        assert (data_dir / "secret.key").read_text() == secret
    finally:
        _stop(second)
    # The last warnex process to leave stops the embedded server it started.
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()
