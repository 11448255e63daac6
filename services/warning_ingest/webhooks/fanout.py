"""Turns each feedback item into one delivery per subscription of its
department (consumer `ingest.webhook-fanout`).

A batch of events becomes items with the same expansion `GET /feedback` uses
(services/warning_ingest/feedback/page.py), in one statement joined to the
subscriptions, and the deliveries are inserted with one more. A subscription
receives the items of events written after it was made. Re-delivery of a batch
is harmless: a delivery is unique per (subscription, webhook id), and the
webhook id is made from the event and the warning.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.warning_ingest.feedback.page import ITEMS_OF_EVENT
from services.warning_ingest.feedback.routes import FeedbackItem
from services.warning_ingest.webhooks.subscriptions import RETRY_WINDOW
from shared import clock
from shared.event_types import (
    CASE_DECIDED,
    CASE_OPENED,
    CASE_WARNINGS_ATTACHED,
    WARNING_DISMISSED,
    WARNING_EVENTS,
)
from shared.events import EventConsumer, EventRecord

FEEDBACK_TYPES = WARNING_EVENTS | {CASE_OPENED, CASE_WARNINGS_ATTACHED, CASE_DECIDED}

_ANY_SUBSCRIPTION = text("SELECT EXISTS (SELECT 1 FROM webhook_subscriptions)")

# Every lookup is by key through a LATERAL ... LIMIT 1 (the batch's events,
# then each item's warning), so the plan stays a few index probes per item
# whatever the tables' statistics say (a fresh bulk load has none).
_ITEMS = text(
    """
SELECT s.subscription_id, i.event_id, i.warning_id, w.source_record_id, i.status,
       i.case_id, i.outcome, i.changed_at
FROM unnest(CAST(:counties AS text[]), CAST(:ids AS bigint[])) AS b(county_code, id)
CROSS JOIN LATERAL (
    SELECT * FROM events e WHERE e.county_code = b.county_code AND e.id = b.id LIMIT 1
) AS e
CROSS JOIN LATERAL (
    SELECT e.xid, e.id AS event_id, e.occurred_at AS changed_at, x.*
    FROM ("""
    + ITEMS_OF_EVENT.format(warning_filter="")
    + """
    ) AS x
) AS i
CROSS JOIN LATERAL (
    SELECT w.source_record_id, w.department FROM warnings w
    WHERE w.warning_id = i.warning_id AND w.county_code = e.county_code LIMIT 1
) AS w
JOIN webhook_subscriptions s ON s.department = w.department AND s.created_at <= i.changed_at
ORDER BY i.xid, i.event_id, i.warning_id, s.subscription_id
"""
).bindparams(bindparam("warning_types", expanding=True))

_INSERT = text(
    "INSERT INTO webhook_deliveries (delivery_id, subscription_id, webhook_id, body, status,"
    " next_attempt_at, retry_until, created_at)"
    " SELECT gen_random_uuid(), u.subscription_id, u.webhook_id, u.body, 'pending',"
    " :now, :until, :now"
    " FROM unnest(CAST(:subscriptions AS uuid[]), CAST(:webhook_ids AS text[]),"
    "             CAST(:bodies AS text[])) AS u(subscription_id, webhook_id, body)"
    " ON CONFLICT (subscription_id, webhook_id) DO NOTHING"
)

_ITEM_FIELDS = ("source_record_id", "warning_id", "status", "case_id", "outcome", "changed_at")


def webhook_id(event_id: int, warning_id: Any) -> str:
    """The Standard Webhooks message id of one feedback item: the same for every
    subscription and every attempt."""
    return f"msg_{event_id}_{warning_id.hex}"


def item_body(row: dict[str, Any]) -> str:
    """The JSON a receiver gets: the `GET /feedback` item, nothing personal."""
    return FeedbackItem.model_validate({k: row[k] for k in _ITEM_FIELDS}).model_dump_json()


async def fan_out(session: AsyncSession, events: list[EventRecord], *, now: datetime) -> int:
    """Queue every feedback item of `events` for its department's subscriptions;
    return the number of deliveries made."""
    if not events or not await session.scalar(_ANY_SUBSCRIPTION):
        return 0
    rows = await session.execute(
        _ITEMS,
        {
            "counties": [e.county_code for e in events],
            "ids": [e.id for e in events],
            "dismissed": WARNING_DISMISSED,
            "warning_types": sorted(WARNING_EVENTS),
            "opened": CASE_OPENED,
            "attached": CASE_WARNINGS_ATTACHED,
            "decided": CASE_DECIDED,
        },
    )
    subscriptions: list[Any] = []
    webhook_ids: list[str] = []
    bodies: list[str] = []
    made: dict[str, str] = {}
    for row in rows:
        item = dict(row._mapping)
        message = webhook_id(item["event_id"], item["warning_id"])
        if message not in made:
            made[message] = item_body(item)
        subscriptions.append(item["subscription_id"])
        webhook_ids.append(message)
        bodies.append(made[message])
    if not bodies:
        return 0
    result = await session.execute(
        _INSERT,
        {
            "subscriptions": subscriptions,
            "webhook_ids": webhook_ids,
            "bodies": bodies,
            "now": now,
            "until": now + RETRY_WINDOW,
        },
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _apply(session: AsyncSession, events: list[EventRecord]) -> None:
    await fan_out(session, events, now=clock.now())


WEBHOOK_FANOUT = EventConsumer("ingest.webhook-fanout", _apply, types=frozenset(FEEDBACK_TYPES))
