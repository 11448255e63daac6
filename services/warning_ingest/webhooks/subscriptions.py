"""A department's webhook subscriptions and their deliveries: registering,
listing, removing, and queueing a delivery again. Every write is audited;
the secret is sealed under a key of its own (shared.pii) and shown once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.warning_ingest.webhooks.signing import new_secret
from services.warning_ingest.webhooks.targets import check_url
from shared import audit
from shared.errors import invalid
from shared.pagination import decode_cursor, page_of
from shared.pii import PiiProtector, derive_key
from shared.settings import get_settings

# Failed attempts are retried for at least this long after an item is queued.
RETRY_WINDOW = timedelta(hours=24)
MAX_SUBSCRIPTIONS = 20
DELIVERY_STATUSES = ("pending", "delivered", "failed")

SUBSCRIBED = "webhook.subscribed"
UNSUBSCRIBED = "webhook.unsubscribed"
REDELIVERY_QUEUED = "webhook.redelivery_queued"


@lru_cache(maxsize=1)
def secret_sealer() -> PiiProtector:
    """Seals webhook secrets like ID numbers, under keys derived for this purpose
    only (a sealed secret cannot be opened with the ID-number key)."""
    secret = get_settings().secret_bytes()
    return PiiProtector(
        match_key=derive_key(secret, "webhook-match"), seal_key=derive_key(secret, "webhook-seal")
    )


def open_secret(subscription_id: uuid.UUID, sealed: bytes) -> str:
    return secret_sealer().open(sealed, aad=subscription_id.bytes)


_COUNT = text("SELECT count(*) FROM webhook_subscriptions WHERE department = :department")
_INSERT = text(
    "INSERT INTO webhook_subscriptions"
    " (subscription_id, department, url, secret_sealed, created_by, created_at)"
    " VALUES (:subscription_id, :department, :url, :sealed, :actor, now())"
    " RETURNING subscription_id, url, created_at"
).bindparams(bindparam("subscription_id", type_=Uuid))
_LIST = text(
    "SELECT subscription_id, url, created_at FROM webhook_subscriptions"
    " WHERE department = :department ORDER BY created_at, subscription_id"
)
_FIND = text(
    "SELECT subscription_id, department, url, created_at FROM webhook_subscriptions"
    " WHERE subscription_id = :subscription_id"
).bindparams(bindparam("subscription_id", type_=Uuid))
_DELETE = text("DELETE FROM webhook_subscriptions WHERE subscription_id = :id").bindparams(
    bindparam("id", type_=Uuid)
)


async def subscribe(
    session: AsyncSession, *, department: str, url: str, actor: str
) -> dict[str, Any]:
    """Register `url` for `department`; the answer holds the secret, never stored in clear.

    422 `invalid_url`, `url_has_credentials`, `url_not_allowed`,
    `too_many_subscriptions`.
    """
    kept = check_url(url, get_settings().webhook_hosts())
    if (await session.scalar(_COUNT, {"department": department}) or 0) >= MAX_SUBSCRIPTIONS:
        raise invalid(
            "url",
            "too_many_subscriptions",
            f"a department has at most {MAX_SUBSCRIPTIONS} subscriptions",
        )
    subscription_id = uuid.uuid4()
    secret = new_secret()
    sealed = secret_sealer().seal(secret, aad=subscription_id.bytes)
    row = (
        await session.execute(
            _INSERT,
            {
                "subscription_id": subscription_id,
                "department": department,
                "url": kept,
                "sealed": sealed,
                "actor": actor,
            },
        )
    ).one()
    await audit.record(
        session,
        actor=actor,
        action=SUBSCRIBED,
        target_type="webhook_subscription",
        target_id=str(subscription_id),
        details={"department": department},
    )
    return {**row._mapping, "secret": secret}


async def subscriptions_of(session: AsyncSession, *, department: str) -> list[dict[str, Any]]:
    rows = await session.execute(_LIST, {"department": department})
    return [dict(row._mapping) for row in rows]


async def find_subscription(
    session: AsyncSession, *, subscription_id: uuid.UUID, department: str
) -> dict[str, Any] | None:
    """The subscription if it is `department`'s (None otherwise: another's is not revealed)."""
    row = (await session.execute(_FIND, {"subscription_id": subscription_id})).one_or_none()
    if row is None or row.department != department:
        return None
    return dict(row._mapping)


async def unsubscribe(session: AsyncSession, *, subscription_id: uuid.UUID, actor: str) -> None:
    """Remove a subscription with its deliveries (nothing more is sent to it)."""
    await session.execute(_DELETE, {"id": subscription_id})
    await audit.record(
        session,
        actor=actor,
        action=UNSUBSCRIBED,
        target_type="webhook_subscription",
        target_id=str(subscription_id),
    )


DELIVERY_COLUMNS = (
    "delivery_id, webhook_id, status, attempts, last_status_code, next_attempt_at, seq"
)
_DELIVERIES = (
    f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries"
    " WHERE subscription_id = :subscription_id"
    " AND (CAST(:status AS text) IS NULL OR status = :status)"
    " AND seq < :before ORDER BY seq DESC LIMIT :limit"
)


async def deliveries_page(
    session: AsyncSession,
    *,
    subscription_id: uuid.UUID,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """A subscription's deliveries, newest first; 422 `invalid_cursor`."""
    before = 2**63 - 1 if cursor is None else decode_cursor(cursor, (int,))[0]
    rows = await session.execute(
        text(_DELIVERIES).bindparams(bindparam("subscription_id", type_=Uuid)),
        {
            "subscription_id": subscription_id,
            "status": status,
            "before": before,
            "limit": limit + 1,
        },
    )
    items, next_cursor = page_of([dict(r._mapping) for r in rows], limit, lambda r: (r["seq"],))
    return items, next_cursor


_REQUEUE = text(
    "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = :now,"
    " retry_until = :until, round_attempts = 0"
    " WHERE delivery_id = :delivery_id AND subscription_id = :subscription_id"
    f" RETURNING {DELIVERY_COLUMNS}"
).bindparams(bindparam("delivery_id", type_=Uuid), bindparam("subscription_id", type_=Uuid))


async def redeliver(
    session: AsyncSession,
    *,
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    now: datetime,
    actor: str,
) -> dict[str, Any] | None:
    """Queue a delivery again now, with a fresh retry window; None if it is not
    one of the subscription's."""
    row = (
        await session.execute(
            _REQUEUE,
            {
                "delivery_id": delivery_id,
                "subscription_id": subscription_id,
                "now": now,
                "until": now + RETRY_WINDOW,
            },
        )
    ).one_or_none()
    if row is None:
        return None
    await audit.record(
        session,
        actor=actor,
        action=REDELIVERY_QUEUED,
        target_type="webhook_delivery",
        target_id=str(delivery_id),
        details={"subscription_id": str(subscription_id)},
    )
    return dict(row._mapping)
