"""Every error a caller can meet is RFC 9457 problem+json, and none leaks internals.

A small service app, built by the same factory as the real four and mounted the
same way, gives the routes (a JSON body, a streamed upload, a crash) that the
real services do not have yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from shared.errors import install_error_handlers
from shared.service_app import ServiceSpec, create_service_app
from shared.settings import get_settings

PROBLEM = "application/problem+json"
SECRET_LOOKING = "610326199001011234-hunter2-SELECT-password"
LIMIT = get_settings().body_limit_bytes


class Item(BaseModel):
    name: str
    count: int


def _router() -> APIRouter:
    router = APIRouter()

    @router.post("/items")
    async def create_item(item: Item) -> dict[str, object]:
        return item.model_dump()

    @router.post("/bulk/upload")
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"bytes": size}

    @router.post("/stream")
    async def stream(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"bytes": size}

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"connection to db failed for id_number={SECRET_LOOKING}")

    return router


@pytest.fixture
async def test_client() -> AsyncIterator[httpx.AsyncClient]:
    spec = ServiceSpec(
        name="errors_test", prefix="/t/v1", title="t", routers=[_router()], bulk_paths=("/bulk",)
    )
    parent = FastAPI()
    install_error_handlers(parent)
    parent.mount(spec.prefix, create_service_app(spec))
    # The app answers a crash with a 500 and then re-raises it for the server to log.
    transport = httpx.ASGITransport(app=parent, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test/t/v1/") as c:
        yield c


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"]
    if status not in (401, 403, 404):  # API.md: every other problem has both
        assert isinstance(body["detail"], str) and body["detail"], body
        assert isinstance(body["errors"], list), body
    return body  # type: ignore[no-any-return]


async def test_malformed_json_is_400_problem(test_client):
    response = await test_client.post(
        "items", content=b'{"name": "x",', headers={"content-type": "application/json"}
    )
    assert assert_problem(response, 400)["title"] == "Malformed JSON"


async def test_a_json_route_sent_text_plain_is_400(test_client):
    response = await test_client.post(
        "items", content=b'{"name": "x", "count": 1}', headers={"content-type": "text/plain"}
    )
    assert_problem(response, 400)


async def test_a_body_that_is_not_utf8_is_400_saying_so(test_client):
    response = await test_client.post(
        "items",
        content=b'{"name": "\xff", "count": 1}',
        headers={"content-type": "application/json"},
    )
    assert assert_problem(response, 400)["type"] == "urn:warnex:problem:invalid_encoding"


async def test_json_nested_ten_thousand_deep_is_400_saying_so(test_client):
    response = await test_client.post(
        "items", content=b"[" * 10_000 + b"]" * 10_000, headers={"content-type": "application/json"}
    )
    assert assert_problem(response, 400)["type"] == "urn:warnex:problem:nested_too_deeply"


async def test_a_missing_field_is_422_with_missing_field_code(test_client):
    response = await test_client.post("items", json={"name": "x"})
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {"field": "count", "code": "missing_field", "message": "Field required"}
    ]


async def test_a_valid_body_passes(test_client):
    response = await test_client.post("items", json={"name": "x", "count": 2})
    assert response.status_code == 200
    assert response.json() == {"name": "x", "count": 2}


async def test_validation_errors_never_echo_the_submitted_value(test_client):
    response = await test_client.post("items", json={"name": "x", "count": SECRET_LOOKING})
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "count"  # type: ignore[index]
    assert SECRET_LOOKING not in response.text
    assert "hunter2" not in response.text


async def test_unknown_path_is_404_problem(client, test_client):
    assert_problem(await client.get("/identification/v1/no/such/thing"), 404)
    assert_problem(await test_client.get("nowhere"), 404)


async def test_wrong_method_is_405_problem(client, test_client):
    assert_problem(await client.post("/reporting/v1/healthz"), 405)
    assert_problem(await test_client.get("items"), 405)


async def test_an_unexpected_error_is_500_without_traceback_or_message(test_client):
    response = await test_client.get("boom")
    body = assert_problem(response, 500)
    text = response.text
    for leak in ("Traceback", "RuntimeError", "connection to db", SECRET_LOOKING, ".py"):
        assert leak not in text
    assert set(body) <= {"type", "title", "status", "detail", "errors", "request_id"}
    assert body["errors"] == []


async def test_an_unexpected_error_carries_the_request_id_to_quote(test_client):
    response = await test_client.get("boom", headers={"x-request-id": "crash-42"})
    assert_problem(response, 500)
    assert response.json()["request_id"] == "crash-42"
    assert response.headers["x-request-id"] == "crash-42"


async def test_a_declared_body_over_the_limit_is_413(test_client):
    response = await test_client.post(
        "items", content=b"x" * (LIMIT + 1), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b" " * min(size, total - sent)
        sent += len(chunk)
        yield chunk


@pytest.mark.parametrize("path", ["items", "stream"])
async def test_a_chunked_body_over_the_limit_is_413(test_client, path):
    response = await test_client.post(
        path, content=_chunks(LIMIT + 64 * 1024), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


async def test_a_chunked_body_under_the_limit_is_read(test_client):
    response = await test_client.post("stream", content=_chunks(LIMIT))
    assert response.status_code == 200
    assert response.json() == {"bytes": LIMIT}


async def test_bulk_paths_take_the_larger_limit(test_client):
    size = LIMIT * 2
    response = await test_client.post("bulk/upload", content=_chunks(size))
    assert response.status_code == 200
    assert response.json() == {"bytes": size}


async def test_the_request_id_is_echoed_and_in_the_problem_body(client, test_client):
    for c, path in ((client, "/ingest/v1/nowhere"), (test_client, "items")):
        response = await c.post(path, json={}, headers={"x-request-id": "req-abc.123"})
        assert response.headers["x-request-id"] == "req-abc.123"
        assert response.json()["request_id"] == "req-abc.123"


async def test_a_request_without_an_id_gets_one(client):
    response = await client.get("/ingest/v1/healthz")
    assert len(response.headers["x-request-id"]) >= 16


async def test_an_unsafe_request_id_is_replaced(client):
    response = await client.get("/ingest/v1/nowhere", headers={"x-request-id": "<script>"})
    assert response.headers["x-request-id"] != "<script>"
    assert response.json()["request_id"] == response.headers["x-request-id"]
