"""What the browser tests of the reporting pages share: `warnex serve` on a
fresh database with data and users, headless Chromium (Debian's `chromium`,
driven by Playwright; no browser is ever downloaded), and a page that fails
its test on any script error or refused request."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from shared.embedded import with_database

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"  # tests/artifacts/
READY = 'body[data-state="ready"]'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _admin(server_uri: str, sql: str) -> None:
    conn = await asyncpg.connect(with_database(server_uri, "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        for _ in range(150):
            if process.poll() is not None:
                raise AssertionError(log.read_text())
            try:
                if (await client.get("/reporting/v1/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("warnex serve did not become ready in 30 s")


def _warnex(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@asynccontextmanager
async def serving(
    server_uri: str,
    template_url: str,
    log_dir: Path,
    *,
    load: Callable[[str], Awaitable[None]],
    users: Sequence[tuple[str, str, str]],
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """`warnex serve` (workers off) on a fresh database that `load(url)` filled;
    its base URL and a token per `(role, region, name)` of `users`, by role.
    The database is dropped afterwards."""
    template = urlsplit(template_url).path.lstrip("/")
    name = f"{template}_page_{uuid.uuid4().hex[:6]}"
    await _admin(server_uri, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    database_url = with_database(server_uri, name)
    port = _free_port()
    env = os.environ | {"DATABASE_URL": database_url, "WARNEX_RUN_WORKERS": "false"}
    process = None
    try:
        await load(database_url)
        # Its request log goes to a file: a pipe nobody reads would fill and stall it.
        log = log_dir / "serve.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "serve", "--port", str(port)],
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        # The users are made while the server starts (two processes, one machine).
        tokens = {}
        for role, region, user_name in users:
            user = ("create-user", "--role", role, "--region", region, "--name", user_name)
            output = await asyncio.to_thread(_warnex, "admin", *user, env=env)
            tokens[role] = output.splitlines()[-1].strip()
        base_url = f"http://127.0.0.1:{port}"
        await _wait_ready(base_url, process, log)
        yield base_url, tokens
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        await _admin(server_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Headless Debian Chromium for the module's pages."""
    from playwright import async_api

    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def watched_page(browser: Any, *, expected_refusal: str) -> AsyncIterator[Any]:
    """A page whose script errors and refused requests (CSP included) fail the
    test, apart from the one HTTP refusal the test means to meet
    (`expected_refusal`, e.g. "status of 401")."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    await context.close()
    assert [e for e in errors if expected_refusal not in e] == [], errors
