"""What the body-form tests share: CSV and NDJSON bodies, posting them, and reading the receipt."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

from tests.services.warning_ingest.batches.batch_helpers import (
    assert_stored,
)
from tests.services.warning_ingest.ingest_helpers import BATCHES, department_headers, person

HEADER = ["source_record_id", "warning_type", "id_number", "name"]
NDJSON = "application/x-ndjson"


def csv_text(data: list[list[str]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(data)
    return out.getvalue()


def csv_row(n: int, name: str = "张三") -> list[str]:
    return [f"R-{n}", "dibao", person(n), name]


def ndjson(*records: Any) -> bytes:
    return b"\n".join(r if isinstance(r, bytes) else orjson.dumps(r) for r in records)


async def chunked(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def post(
    client, session, body: Any, content_type: str, *, params=None, headers=None
) -> httpx.Response:
    # One department client per test: an Idempotency-Key belongs to its client.
    if "auth" not in session.info:
        session.info["auth"] = await department_headers(session, "civil_affairs")
    auth = session.info["auth"]
    return await client.post(
        BATCHES,
        content=body,
        params=params,
        headers={**auth, "Content-Type": content_type, **(headers or {})},
    )


async def receipt(response: httpx.Response, session) -> dict:
    assert response.status_code == 201, response.text
    body = response.json()
    await assert_stored(session, body)
    return body


def statuses(body: dict) -> list[tuple[int, str]]:
    return [(e["index"], e["status"]) for e in body["records"]]
