"""Each request's statements are bounded by its caller's statement timeout
(settings.statement_timeout_seconds), set in the round trip that finds the
caller; a statement cancelled by it, or a pool with no connection free, is a
503 with Retry-After, not a 500."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from shared.db import Database, DriverStatement
from shared.errors import install_error_handlers
from shared.settings import STATEMENT_TIMEOUTS, Settings, reset_settings
from tests.services.warning_ingest.ingest_helpers import department_headers, staff_headers


async def _timeout_in_force(session) -> str:
    return str(await session.scalar(text("SHOW statement_timeout")))


@pytest.mark.parametrize(
    ("role", "expected"), [("viewer", "15s"), ("village_staff", "30s"), ("county_staff", "2min")]
)
async def test_a_users_requests_run_under_their_roles_timeout(client, session, role, expected):
    region = "610326000000" if role in {"viewer", "county_staff"} else "610326100201"
    headers = await staff_headers(session, role, region)
    answer = await client.get("/reporting/v1/overview", headers=headers)
    assert answer.status_code in (200, 403), answer.text
    assert await _timeout_in_force(session) == expected


async def test_a_department_clients_requests_run_under_the_client_timeout(client, session):
    headers = await department_headers(session, "civil_affairs")
    assert (await client.get("/ingest/v1/feeds", headers=headers)).status_code == 200
    assert await _timeout_in_force(session) == "2min"


@pytest.fixture
def short_viewer_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WARNEX_STATEMENT_TIMEOUT_SECONDS", '{"viewer": 0.25}')
    reset_settings()
    try:
        yield
    finally:
        monkeypatch.undo()
        reset_settings()


async def test_a_deployment_sets_one_roles_timeout_and_keeps_the_others(
    client, session, short_viewer_timeout
):
    headers = await staff_headers(session, "viewer", "610326000000")
    assert (await client.get("/reporting/v1/overview", headers=headers)).status_code == 200
    assert await _timeout_in_force(session) == "250ms"
    other = await staff_headers(session, "county_staff", "610326000000")
    assert (await client.get("/reporting/v1/overview", headers=other)).status_code == 200
    assert await _timeout_in_force(session) == "2min"


def test_an_unknown_caller_in_the_timeouts_stops_start_up():
    with pytest.raises(ValueError, match="not for superuser"):
        Settings(statement_timeout_seconds={"superuser": 5})
    assert Settings(statement_timeout_seconds={"viewer": 5}).statement_timeouts() == {
        **STATEMENT_TIMEOUTS,
        "viewer": 5,
    }


_SLEEP = DriverStatement(text("SELECT pg_sleep(:seconds)"))


async def _through_sqlalchemy(session) -> None:
    await session.execute(text("SELECT pg_sleep(2)"))


async def _through_the_driver(session) -> None:
    # shared/db.py DriverStatement raises asyncpg's own error, not SQLAlchemy's.
    await _SLEEP.fetchrow(session, {"seconds": 2})


@pytest.mark.parametrize("sleep", [_through_sqlalchemy, _through_the_driver])
async def test_a_statement_past_its_timeout_is_a_503_problem(fresh_db: Database, sleep):
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        async with fresh_db.transaction() as session:
            await session.execute(text("SET LOCAL statement_timeout = '50ms'"))
            await sleep(session)
        return {"status": "never"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get("/slow")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    problem = answer.json()
    assert problem["type"] == "urn:warnex:problem:database_busy"
    assert problem["errors"] == [] and problem["detail"]
