"""Retention of webhook deliveries (job `webhook-retention`).

A delivered or failed delivery is kept `[webhooks] delivery_retention_days`
(policy, 30 by default) after its last attempt, then deleted; a pending one is
never deleted, however old (it may be waiting out a receiver's outage, or have
been queued again by a redeliver). Each run deletes at most `limit` of the
oldest, so that a first run over a long backlog stays short; the next runs
take the rest. Idempotent: a run finds only what is still past its time. The
scheduler runs it under its advisory lock (shared/scheduler.run_job), and the
row lock below lets a concurrent redeliver win: a delivery it holds is skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.policy import get_policy

PURGE_LIMIT = 10_000
PURGED = "webhook.deliveries_purged"
ACTOR = "system:webhook-retention"

# The oldest settled deliveries past the cut-off, by the partial index
# ix_webhook_deliveries_settled; SKIP LOCKED leaves a row a redeliver holds.
_PURGE = text(
    "WITH old AS ("
    "  SELECT delivery_id FROM webhook_deliveries"
    "  WHERE status <> 'pending' AND last_attempt_at < :cutoff"
    "  ORDER BY last_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED"
    "), gone AS ("
    "  DELETE FROM webhook_deliveries d USING old WHERE d.delivery_id = old.delivery_id"
    "  AND d.status <> 'pending' RETURNING d.status"
    ")"
    " SELECT count(*) FILTER (WHERE status = 'delivered') AS delivered,"
    "        count(*) FILTER (WHERE status = 'failed') AS failed FROM gone"
)


async def purge_deliveries(
    session: AsyncSession, *, now: datetime, limit: int = PURGE_LIMIT
) -> dict[str, Any]:
    """Delete up to `limit` settled deliveries whose last attempt is older than
    the retention (never commits); audit the counts. Returns
    `{"deleted", "delivered", "failed", "cutoff"}`."""
    days = get_policy().webhooks.delivery_retention_days
    cutoff = now - timedelta(days=days)
    row = (await session.execute(_PURGE, {"cutoff": cutoff, "limit": limit})).one()
    delivered, failed = int(row.delivered), int(row.failed)
    outcome = {
        "deleted": delivered + failed,
        "delivered": delivered,
        "failed": failed,
        "cutoff": cutoff.isoformat(),
    }
    if delivered + failed:
        await audit.record(
            session,
            actor=ACTOR,
            action=PURGED,
            target_type="webhook_deliveries",
            target_id="retention",
            details=outcome | {"retention_days": days},
        )
    return outcome
