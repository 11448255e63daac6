"""What the batch tests share: pushing records, and checking the receipt against the rows stored."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from shared import clock
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    department_headers,
    person,
    record,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 2026-11-23 in Asia/Shanghai
STORED_TABLES = ("warnings", "warning_sources", "ingest_batches", "feed_pushes")


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def rows(session, sql: str, **params: Any) -> list[Any]:
    return list((await session.execute(text(sql), params)).all())


async def count(session, table: str) -> int:
    [(n,)] = await rows(session, f"SELECT count(*) FROM {table}")
    return int(n)


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["type"]
    if slug is not None:
        assert problem["type"].endswith(slug), problem
    if status == 422:
        assert isinstance(problem.get("errors"), list), problem
    return problem


async def assert_nothing_stored(session) -> None:
    for table in STORED_TABLES:
        assert await count(session, table) == 0, table


async def assert_stored(session, *receipts: dict) -> None:
    """The database holds exactly what these receipts (all of the test's) say."""
    accepted = sum(r["accepted"] for r in receipts)
    assert await count(session, "warnings") == accepted
    assert await count(session, "warning_sources") == accepted
    batches = await rows(
        session,
        "SELECT batch_id::text, record_count, accepted, duplicates, rejected FROM ingest_batches",
    )
    assert sorted(batches) == sorted(
        (r["batch_id"], r["record_count"], r["accepted"], r["duplicates"], r["rejected"])
        for r in receipts
    )
    for r in receipts:
        assert r["accepted"] + r["duplicates"] + r["rejected"] == r["record_count"]
        stored = {
            str(w)
            for (w,) in await rows(
                session, "SELECT warning_id FROM warnings WHERE batch_id = :b", b=r["batch_id"]
            )
        }
        assert len(stored) == r["accepted"]
        indexes = [e["index"] for e in r["records"]]
        assert indexes == sorted(set(indexes))
        if r["record_count"] > 10_000:
            continue
        statuses = Counter(e["status"] for e in r["records"])
        assert (
            statuses
            == Counter(
                {"accepted": r["accepted"], "duplicate": r["duplicates"], "rejected": r["rejected"]}
            )
            - Counter()
        )
        assert {e["warning_id"] for e in r["records"] if e["status"] == "accepted"} == stored


async def push(client, headers, records: list[Any], **options: Any) -> httpx.Response:
    return await client.post(BATCHES, json={"records": records, **options}, headers=headers)


async def receipt_of(client, session, records: list[Any], department: str = "civil_affairs"):
    headers = await department_headers(session, department)
    response = await push(client, headers, records)
    assert response.status_code == 201, response.text
    receipt = response.json()
    await assert_stored(session, receipt)
    return receipt, response


GOOD = {
    "civil_affairs": lambda: record(900),
    "emergency_management": lambda: record(900, "disaster", event_date="2026-11-20"),
    "medical_insurance": lambda: record(900, "high_medical_expense", amount_yuan=20000),
}


async def rejected(client, session, bad: Any, department: str = "civil_affairs") -> list[dict]:
    """Push a good record then `bad`; the good one is stored, `bad` rejected at
    index 1 and its errors returned. No ID number appears in the receipt."""
    receipt, response = await receipt_of(client, session, [GOOD[department](), bad], department)
    assert (receipt["accepted"], receipt["rejected"]) == (1, 1), receipt
    entry = receipt["records"][1]
    assert entry["index"] == 1 and entry["status"] == "rejected"
    assert entry["warning_id"] is None
    assert person(900) not in response.text
    return entry["errors"]


def codes(errors: list[dict]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in errors]


async def stored_one(session, *columns: str) -> tuple:
    [row] = await rows(session, f"SELECT {', '.join(columns)} FROM warnings ORDER BY batch_index")
    return tuple(row)
