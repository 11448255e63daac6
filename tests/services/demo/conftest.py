"""The demo, loaded once (`warnex demo --size small`, seed 7) into a fresh
database for the whole package: loading takes a while, and every test here only
reads what it did."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.app import create_app
from services.demo.load import load_demo
from services.demo.report import DemoReport
from shared.db import Database, get_database, use_database
from shared.embedded import with_database
from tests.conftest import _admin, _dbname

SEED = 7
COUNTY = "610326000000"


@pytest.fixture(scope="package")
async def demo_db(server_uri: str, template_url: str) -> AsyncIterator[Database]:
    """A fresh migrated database, dropped after the package."""
    name = f"{_dbname(template_url)}_demo_{uuid.uuid4().hex[:6]}"
    await _admin(server_uri, f'CREATE DATABASE "{name}" TEMPLATE "{_dbname(template_url)}"')
    database = Database(with_database(server_uri, name), pool_size=5)
    yield database
    await database.dispose()
    await _admin(server_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="package")
async def loaded(demo_db: Database) -> DemoReport:
    return await load_demo(demo_db, seed=SEED, size="small")


@pytest.fixture
async def api(demo_db: Database, loaded: DemoReport) -> AsyncIterator[httpx.AsyncClient]:
    """The four services in-process, on the demo's database."""
    try:
        previous: Database | None = get_database()
    except RuntimeError:
        previous = None
    use_database(demo_db)
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as client:
        yield client
    use_database(previous)


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.transaction() as session:
        return list((await session.execute(text(sql), params)).all())


def token(report: DemoReport, prefix: str) -> dict[str, str]:
    (value,) = [t for label, t in report.tokens.items() if label.startswith(prefix)]
    return {"Authorization": f"Bearer {value}"}
