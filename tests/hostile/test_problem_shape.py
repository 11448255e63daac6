"""One problem shape (API.md, Precise rules): every problem+json answer other
than 401, 403 and 404 carries a non-empty `detail` and an `errors` list, so
that a client parses one shape. Each status is driven through the real apps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.app import create_app
from shared.db import get_session
from shared.settings import get_settings
from tests.conftest import override_sessions
from tests.services.identification.id_helpers import CASES, open_case, register
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    department_headers,
    person,
    staff_headers,
)

PROBLEM = "application/problem+json"
JSON = {"content-type": "application/json"}
DEEP = b"[" * 10_000 + b"]" * 10_000


def assert_shape(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"].strip(), body
    assert isinstance(body["errors"], list), body
    return body


async def _headers(session: AsyncSession, path: str) -> dict[str, str]:
    if path == BATCHES:
        return await department_headers(session, "civil_affairs")
    return await staff_headers(session)


# A route whose body FastAPI parses, and the ingest push that parses its own.
PATHS = [CASES, BATCHES]


@pytest.mark.parametrize("path", PATHS)
async def test_malformed_json_is_400_with_detail_and_errors(client, session, path):
    headers = {**JSON, **await _headers(session, path)}
    response = await client.post(path, content=b'{"household_id": "H-1",', headers=headers)
    assert assert_shape(response, 400)["title"] == "Malformed JSON"


@pytest.mark.parametrize("path", PATHS)
async def test_a_wrong_content_type_is_400_with_detail_and_errors(client, session, path):
    headers = {"content-type": "application/xml", **await _headers(session, path)}
    response = await client.post(path, content=b"<case/>", headers=headers)
    assert assert_shape(response, 400)["title"] == "Unsupported content type"


@pytest.mark.parametrize("path", PATHS)
async def test_a_body_that_is_not_utf8_is_400_with_detail_and_errors(client, session, path):
    headers = {**JSON, **await _headers(session, path)}
    response = await client.post(path, content=b'{"household_id": "\xff\xfeH"}', headers=headers)
    body = assert_shape(response, 400)
    assert body["title"] != "HTTP error"


@pytest.mark.parametrize("path", PATHS)
async def test_json_nested_ten_thousand_deep_is_400_with_detail_and_errors(client, session, path):
    response = await client.post(
        path, content=DEEP, headers={**JSON, **await _headers(session, path)}
    )
    body = assert_shape(response, 400)
    assert body["title"] != "HTTP error"


async def test_json_nested_too_deeply_says_so(client, session):
    headers = {**JSON, **await staff_headers(session)}
    body = assert_shape(await client.post(CASES, content=DEEP, headers=headers), 400)
    assert body["type"] == "urn:warnex:problem:nested_too_deeply"


async def test_a_second_open_case_is_409_with_detail_and_errors(client, session):
    await register(session, "H-1", [1])
    await open_case(client, session, "H-1")
    clue = {"household_id": "H-1", "source": "self_report", "found_on": "2026-11-22"}
    clue["description"] = "排查发现"
    response = await client.post(CASES, json=clue, headers=await staff_headers(session))
    assert assert_shape(response, 409)["errors"] == []


async def test_a_declared_body_over_the_limit_is_413_with_detail_and_errors(client, session):
    size = get_settings().body_limit_bytes + 1
    headers = {**JSON, **await staff_headers(session)}
    response = await client.post(CASES, content=b" " * size, headers=headers)
    assert_shape(response, 413)


async def test_too_many_requests_is_429_with_detail_and_errors(client, session, low_limits):
    headers = await staff_headers(session)
    for _ in range(3):
        assert (await client.get(CASES, headers=headers)).status_code == 200
    assert_shape(await client.get(CASES, headers=headers), 429)


async def test_a_wrong_method_is_405_with_detail_and_errors(client):
    assert_shape(await client.delete("/reporting/v1/healthz"), 405)


@pytest.fixture
async def failing_sessions(session: AsyncSession) -> AsyncIterator[Any]:
    """A client of the four apps whose database session fails with the error
    the test sets; the crash is answered, not raised into the test."""
    app = create_app()
    override_sessions(app, session)
    failure: list[BaseException] = []

    async def failing_session() -> AsyncIterator[AsyncSession]:
        raise failure[0]
        yield session  # pragma: no cover (makes this a dependency generator)

    for sub in app.state.services.values():
        sub.dependency_overrides[get_session] = failing_session
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as c:
        yield c, failure


async def test_an_unexpected_error_is_500_with_detail_and_errors(failing_sessions, session):
    client, failure = failing_sessions
    failure.append(RuntimeError(f"boom for id_number={person(1)}"))
    response = await client.get(CASES, headers=await staff_headers(session))
    assert_shape(response, 500)
    assert person(1) not in response.text


async def test_the_database_unreachable_is_503_with_detail_and_errors(failing_sessions, session):
    client, failure = failing_sessions
    failure.append(ConnectionRefusedError("connection refused"))
    response = await client.get(CASES, headers=await staff_headers(session))
    assert assert_shape(response, 503)["type"] == "urn:warnex:problem:database_unavailable"


async def test_a_schema_behind_the_code_is_503_with_detail_and_errors(monkeypatch, session):
    monkeypatch.setattr("shared.service_app.head_revision", lambda: "a_later_revision")
    app = create_app()
    override_sessions(app, session)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as c:
        assert_shape(await c.get("/reporting/v1/readyz"), 503)
