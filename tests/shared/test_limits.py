"""Request bodies are read whole, within their size and time limits, before the
app runs (shared/limits.py): what a handler sees, and what a stalled or
oversized body gets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.limits import SPOOL_BYTES, BodyMiddleware


async def _echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"size": len(body), "head": body[:8].decode(), "tail": body[-8:].decode()})


def _client(*, limit: int = 4 * SPOOL_BYTES, idle: float = 5.0, deadline: float = 30.0):
    app = Starlette(routes=[Route("/echo", _echo, methods=["POST"])])
    wrapped = BodyMiddleware(
        app, limit=limit, bulk_limit=limit, idle_seconds=idle, deadline_seconds=deadline
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://t")


async def _chunks(parts: list[bytes], pause: float = 0.0) -> AsyncIterator[bytes]:
    for part in parts:
        if pause:
            await asyncio.sleep(pause)
        yield part


@pytest.mark.parametrize("size", [0, 10, SPOOL_BYTES + 1, 3 * SPOOL_BYTES])
async def test_the_handler_reads_the_body_it_was_sent_small_or_spooled(size):
    body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    async with _client() as client:
        answer = await client.post("/echo", content=_chunks([body[:7], body[7:]]))
    assert answer.status_code == 200
    assert answer.json() == {
        "size": size,
        "head": body[:8].decode(),
        "tail": body[-8:].decode() if size else "",
    }


async def test_a_body_that_stalls_gets_408_and_never_reaches_the_handler():
    async with _client(idle=0.3) as client:
        answer = await client.post("/echo", content=_chunks([b"a", b"b"], pause=1.0))
    assert answer.status_code == 408
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["errors"] == [] and "no progress" in problem["detail"]


async def test_a_body_that_trickles_past_the_deadline_gets_408():
    async with _client(idle=1.0, deadline=0.8) as client:
        answer = await client.post("/echo", content=_chunks([b"x"] * 10, pause=0.2))
    assert answer.status_code == 408
    assert "within" in answer.json()["detail"]


async def test_a_chunked_body_past_the_limit_gets_413_as_soon_as_it_passes():
    async with _client(limit=100) as client:
        answer = await client.post("/echo", content=_chunks([b"x" * 60, b"x" * 60]))
    assert answer.status_code == 413
    assert answer.json()["errors"] == []
