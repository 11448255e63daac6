"""Shared set-up of the webhook tests: the allowed hosts, an API on a
committed database, and pushes that make feedback items."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import issue_token
from shared.db import Database
from tests.services.warning_ingest.ingest_helpers import record

IG = "/ingest/v1"
SUBSCRIPTIONS = IG + "/subscriptions"
ALLOWED = "127.0.0.1,hooks.example.test"


async def client_headers(db: Database, department: str) -> dict[str, str]:
    async with db.transaction() as s:
        _, token = await issue_token(s, kind="client", name=department, department=department)
    return {"Authorization": f"Bearer {token}"}


async def subscribe(api: httpx.AsyncClient, headers: dict[str, str], url: str) -> dict[str, Any]:
    response = await api.post(SUBSCRIPTIONS, json={"url": url}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def push_unmatched(api: httpx.AsyncClient, headers: dict[str, str], seqs: range) -> list[str]:
    """Push dibao records of people nobody registered: one `unmatched` feedback
    item each. Returns their warning ids."""
    response = await api.post(
        IG + "/batches", json={"records": [record(s) for s in seqs]}, headers=headers
    )
    assert response.status_code == 201, response.text
    return [r["warning_id"] for r in response.json()["records"]]


async def add_delivery(session: AsyncSession, subscription_id: uuid.UUID) -> uuid.UUID:
    """A pending delivery of a made-up item to the subscription."""
    delivery_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO webhook_deliveries (delivery_id, subscription_id, webhook_id, body,"
            " status, next_attempt_at, retry_until, created_at)"
            " VALUES (:id, :subscription_id, 'msg_test', '{}', 'pending', now(),"
            " now() + interval '1 day', now())"
        ),
        {"id": delivery_id, "subscription_id": subscription_id},
    )
    return delivery_id
