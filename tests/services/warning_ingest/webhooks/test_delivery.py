"""Feedback items reach real receivers on 127.0.0.1: signed, retried on a
controlled clock until delivered or past the 24-hour window, and a hanging
receiver never holds back a live one. Real commits (`fresh_db`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from standardwebhooks import Webhook

from services.warning_ingest.webhooks.delivery import DeliveryWorker
from services.warning_ingest.webhooks.fanout import WEBHOOK_FANOUT
from shared import clock
from shared.db import Database
from tests.services.warning_ingest.feedback.test_feedback import (
    MEDICAL,
    accepted,
    add_warning,
    attached,
    commit_each,
    decided,
    poll_until,
)
from tests.services.warning_ingest.webhooks.receiver import receiving
from tests.services.warning_ingest.webhooks.webhook_helpers import (
    IG,
    client_headers,
    push_unmatched,
    subscribe,
)

pytestmark = pytest.mark.usefixtures("allowed_hosts")

CIVIL = "civil_affairs"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


async def deliveries(db: Database, subscription_id: str) -> list[dict[str, Any]]:
    async with db.transaction() as s:
        rows = await s.execute(
            text(
                "SELECT webhook_id, status, attempts, last_status_code, last_error,"
                " next_attempt_at, retry_until, last_attempt_at FROM webhook_deliveries"
                " WHERE subscription_id = :id ORDER BY seq"
            ),
            {"id": uuid.UUID(subscription_id)},
        )
        return [dict(r._mapping) for r in rows]


async def test_each_item_arrives_signed_in_the_feedback_shape(
    api: httpx.AsyncClient, fresh_db: Database
) -> None:
    civil = await client_headers(fresh_db, CIVIL)
    with receiving() as receiver:
        sub = await subscribe(api, civil, receiver.url)
        warning_ids = await push_unmatched(api, civil, range(1, 4))
        # Another department's items are not this subscription's.
        medical = await client_headers(fresh_db, "medical_insurance")
        await api.post(
            IG + "/batches",
            json={
                "records": [
                    {
                        "source_record_id": "M-1",
                        "warning_type": "high_medical_expense",
                        "id_number": "610326198001010011",
                        "name": "张三",
                        "amount_yuan": 50000,
                    }
                ]
            },
            headers=medical,
        )
        await WEBHOOK_FANOUT.drain(fresh_db)
        attempts = await DeliveryWorker(timeout=5).run_once(fresh_db)
        assert attempts == 3
        assert len(receiver.requests) == 3

    feedback = (await api.get(IG + "/feedback", headers=civil)).json()["items"]
    verifier = Webhook(sub["secret"])
    bodies = []
    for request in receiver.requests:
        assert request.path == "/hook"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-id"].startswith("msg_")
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
        verifier.verify(request.body, request.headers)
        bodies.append(orjson.loads(request.body))
    by_warning = {b["warning_id"]: b for b in bodies}
    assert sorted(by_warning) == sorted(warning_ids)
    for item in feedback:
        assert by_warning[item["warning_id"]] == item  # the same JSON as GET /feedback
    # Nothing personal: no name, no ID number, in any body.
    raw = b"".join(r.body for r in receiver.requests)
    assert "张三".encode() not in raw and b"id_number" not in raw
    assert {d["status"] for d in await deliveries(fresh_db, sub["subscription_id"])} == {
        "delivered"
    }


async def test_failures_are_retried_with_backoff_and_the_same_webhook_id(
    api: httpx.AsyncClient, fresh_db: Database
) -> None:
    civil = await client_headers(fresh_db, CIVIL)
    worker = DeliveryWorker(timeout=5)
    with receiving(fail_first=3) as receiver:
        sub = await subscribe(api, civil, receiver.url)
        await push_unmatched(api, civil, range(1, 2))
        now = T0
        with clock.frozen_at(now):
            await WEBHOOK_FANOUT.drain(fresh_db)
        delays = []
        for _ in range(10):  # bounded: four attempts are expected
            with clock.frozen_at(now):
                assert await worker.run_once(fresh_db) == 1
                # Not due again at the same instant.
                assert await worker.run_once(fresh_db) == 0
            (row,) = await deliveries(fresh_db, sub["subscription_id"])
            if row["status"] != "pending":
                break
            delays.append((row["next_attempt_at"] - now).total_seconds())
            now = row["next_attempt_at"]
    assert row["status"] == "delivered" and row["attempts"] == 4
    assert row["last_status_code"] == 204
    assert [r.answered for r in receiver.requests] == [500, 500, 500, 204]
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    # 40 s doubling, less up to a quarter: the first retry within 60 s.
    assert 30 <= delays[0] <= 40 and 60 <= delays[1] <= 80 and 120 <= delays[2] <= 160


async def test_a_receiver_that_never_accepts_fails_after_24_hours(
    api: httpx.AsyncClient, fresh_db: Database
) -> None:
    civil = await client_headers(fresh_db, CIVIL)
    worker = DeliveryWorker(timeout=5)
    with receiving(fail_first=10**6, fail_status=503) as receiver:
        sub = await subscribe(api, civil, receiver.url)
        await push_unmatched(api, civil, range(1, 2))
        now = T0
        with clock.frozen_at(now):
            await WEBHOOK_FANOUT.drain(fresh_db)
        for _ in range(80):  # bounded: about 30 attempts fill a day
            with clock.frozen_at(now):
                await worker.run_once(fresh_db)
            (row,) = await deliveries(fresh_db, sub["subscription_id"])
            if row["status"] != "pending":
                break
            now = row["next_attempt_at"]
    assert row["status"] == "failed" and row["next_attempt_at"] is None
    assert row["last_status_code"] == 503
    assert row["last_attempt_at"] >= T0 + timedelta(hours=24)
    assert row["last_attempt_at"] < T0 + timedelta(hours=25)
    assert 20 <= row["attempts"] <= 40
    assert len(receiver.requests) == row["attempts"]


async def test_a_hanging_receiver_does_not_delay_a_live_one(
    api: httpx.AsyncClient, fresh_db: Database
) -> None:
    civil = await client_headers(fresh_db, CIVIL)
    worker = DeliveryWorker(timeout=2, poll_seconds=0.1, per_subscription=2, batch_size=2)
    with receiving(hang_seconds=30) as hanging, receiving() as live:
        dead_sub = await subscribe(api, civil, hanging.url)
        await subscribe(api, civil, live.url)
        await push_unmatched(api, civil, range(1, 11))
        await WEBHOOK_FANOUT.drain(fresh_db)
        started = time.monotonic()
        task = asyncio.create_task(worker.run_forever(fresh_db))
        try:
            assert await asyncio.to_thread(live.wait_for, 10, 10)
            live_took = time.monotonic() - started
            # All ten reached the live receiver before the first hanging
            # attempt (two in flight) had even timed out.
            assert live_took < worker.timeout
            for _ in range(100):  # bounded: 10 s
                rows = await deliveries(fresh_db, dead_sub["subscription_id"])
                if any(r["last_error"] == "timeout" for r in rows):
                    break
                await asyncio.sleep(0.1)
            assert any(r["last_error"] == "timeout" for r in rows)
            assert all(r["status"] == "pending" for r in rows)
        finally:
            task.cancel()
            stopping = time.monotonic()
            await asyncio.gather(task, return_exceptions=True)
            assert time.monotonic() - stopping < 5, "the worker did not stop on shutdown"
    assert len(live.requests) == 10


async def test_two_workers_share_the_work_without_sending_anything_twice(
    api: httpx.AsyncClient, fresh_db: Database
) -> None:
    civil = await client_headers(fresh_db, CIVIL)
    with receiving() as a, receiving() as b, receiving() as c:
        for receiver in (a, b, c):
            await subscribe(api, civil, receiver.url)
        await push_unmatched(api, civil, range(1, 21))
        await WEBHOOK_FANOUT.drain(fresh_db)
        first = DeliveryWorker(per_subscription=3, batch_size=5)
        second = DeliveryWorker(per_subscription=3, batch_size=5)
        sent = await asyncio.gather(first.run_once(fresh_db), second.run_once(fresh_db))
    assert sum(sent) == 60
    for receiver in (a, b, c):
        ids = [r.headers["webhook-id"] for r in receiver.requests]
        assert len(ids) == len(set(ids)) == 20


async def test_a_subscription_gets_only_items_from_after_it_was_made(
    api: httpx.AsyncClient, fresh_db: Database
) -> None:
    civil = await client_headers(fresh_db, CIVIL)
    await push_unmatched(api, civil, range(1, 3))
    with receiving() as receiver:
        sub = await subscribe(api, civil, receiver.url)
        await push_unmatched(api, civil, range(3, 4))
        await WEBHOOK_FANOUT.drain(fresh_db)
        await DeliveryWorker().run_once(fresh_db)
    assert len(await deliveries(fresh_db, sub["subscription_id"])) == 1
    assert orjson.loads(receiver.requests[0].body)["source_record_id"] == "R-3"


async def test_case_events_are_pushed_like_the_feedback_list(
    api: httpx.AsyncClient, fresh_db: Database
) -> None:
    """Matched into a case, then decided: the receiver gets the same items, in
    the same shape, as `GET /feedback` lists."""
    medical = await client_headers(fresh_db, MEDICAL)
    with receiving() as receiver:
        await subscribe(api, medical, receiver.url)
        a = await add_warning(fresh_db, "M-1")
        b = await add_warning(fresh_db, "M-2")
        case_id = uuid.uuid4()
        await commit_each(
            fresh_db,
            accepted(a),
            accepted(b),
            attached("case.opened", case_id, a),
            attached("case.warnings_attached", case_id, b),
            decided(case_id, "included"),
        )
        await WEBHOOK_FANOUT.drain(fresh_db)
        await DeliveryWorker(timeout=5).run_once(fresh_db)
    items, _ = await poll_until(api, medical, 6)
    assert len(items) == 6
    pushed = sorted((orjson.loads(r.body) for r in receiver.requests), key=orjson.dumps)
    assert pushed == sorted(items, key=orjson.dumps)
    assert {(i["source_record_id"], i["outcome"]) for i in pushed if i["outcome"]} == {
        ("M-1", "included"),
        ("M-2", "included"),
    }
