"""Webhook delivery retention (job `webhook-retention`): delivered and failed
deliveries go once their last attempt is older than the policy's 30 days, a
bounded number per run; pending ones never do."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points

from sqlalchemy import text

from services.warning_ingest.jobs import JOBS, WEBHOOK_RETENTION
from services.warning_ingest.webhooks.retention import PURGED, purge_deliveries
from shared.scheduler import run_job

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def subscription(session) -> uuid.UUID:
    subscription_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO webhook_subscriptions (subscription_id, department, url,"
            " secret_sealed, created_by) VALUES (:id, 'civil_affairs',"
            " 'https://hooks.example.test/hook', '\\x00', 'test')"
        ),
        {"id": subscription_id},
    )
    return subscription_id


async def delivery(session, subscription_id, status: str, last_attempt_age: timedelta) -> str:
    """A delivery in `status` last attempted `last_attempt_age` before NOW; its
    webhook id says which it is."""
    webhook_id = f"msg_{status}_{last_attempt_age.days}d_{uuid.uuid4().hex[:6]}"
    last = NOW - last_attempt_age
    await session.execute(
        text(
            "INSERT INTO webhook_deliveries (delivery_id, subscription_id, webhook_id, body,"
            " status, attempts, next_attempt_at, retry_until, created_at, last_attempt_at)"
            " VALUES (:id, :sub, :webhook_id, '{}', CAST(:status AS varchar), 1,"
            " CASE WHEN CAST(:status AS varchar) = 'pending'"
            " THEN CAST(:last AS timestamptz) + interval '1 hour' END,"
            " CAST(:last AS timestamptz) + interval '1 day',"
            " CAST(:last AS timestamptz), CAST(:last AS timestamptz))"
        ),
        {"id": uuid.uuid4(), "sub": subscription_id, "webhook_id": webhook_id,
         "status": status, "last": last},
    )  # fmt: skip
    return webhook_id


async def remaining(session) -> set[str]:
    rows = await session.execute(text("SELECT webhook_id FROM webhook_deliveries"))
    return {r.webhook_id for r in rows}


async def test_settled_deliveries_past_the_retention_go_and_pending_ones_stay(session):
    sub = await subscription(session)
    old_delivered = await delivery(session, sub, "delivered", 31 * DAY)
    old_failed = await delivery(session, sub, "failed", 45 * DAY)
    old_pending = await delivery(session, sub, "pending", 90 * DAY)  # never deleted
    recent = {
        await delivery(session, sub, "delivered", 29 * DAY),
        await delivery(session, sub, "failed", 2 * DAY),
        await delivery(session, sub, "pending", 0 * DAY),
    }

    outcome = await purge_deliveries(session, now=NOW)

    assert (outcome["deleted"], outcome["delivered"], outcome["failed"]) == (2, 1, 1)
    assert await remaining(session) == recent | {old_pending}
    assert old_delivered not in await remaining(session)
    assert old_failed not in await remaining(session)
    [(details,)] = (
        await session.execute(
            text("SELECT details FROM audit_log WHERE action = :a"), {"a": PURGED}
        )
    ).all()
    assert details["deleted"] == 2 and details["retention_days"] == 30
    # Idempotent: a second run finds nothing more, and audits nothing.
    assert (await purge_deliveries(session, now=NOW))["deleted"] == 0
    assert await remaining(session) == recent | {old_pending}
    # Time moves on: the 29-day-old delivery passes 30 days two days later.
    later = await purge_deliveries(session, now=NOW + 2 * DAY)
    assert later["deleted"] == 1
    assert len(await remaining(session)) == 3


async def test_a_run_deletes_at_most_its_limit_oldest_first(session):
    sub = await subscription(session)
    ages = [40, 35, 60, 50, 31]
    ids = {age: await delivery(session, sub, "delivered", age * DAY) for age in ages}

    first = await purge_deliveries(session, now=NOW, limit=2)
    assert first["deleted"] == 2
    assert await remaining(session) == {ids[40], ids[35], ids[31]}  # 60 and 50 went first
    second = await purge_deliveries(session, now=NOW, limit=2)
    assert second["deleted"] == 2
    assert await remaining(session) == {ids[31]}
    assert (await purge_deliveries(session, now=NOW, limit=2))["deleted"] == 1
    assert await remaining(session) == set()


async def test_the_job_runs_from_its_entry_point_and_commits(fresh_db):
    [entry] = [ep for ep in entry_points(group="warnex.jobs") if ep.name == "webhook-retention"]
    job = entry.load()
    assert job is WEBHOOK_RETENTION and job in JOBS  # `warnex jobs run`, and the scheduler
    async with fresh_db.transaction() as session:
        sub = await subscription(session)
        await delivery(session, sub, "delivered", 40 * DAY)
        await delivery(session, sub, "pending", 40 * DAY)

    first = await run_job(fresh_db, job, now=NOW, manual=True)
    second = await run_job(fresh_db, job, now=NOW + timedelta(hours=1), manual=True)

    cutoff = (NOW - 30 * DAY).isoformat()
    assert first == f'ran: {{"deleted":1,"delivered":1,"failed":0,"cutoff":"{cutoff}"}}'
    assert second.startswith('ran: {"deleted":0,')
    async with fresh_db.transaction() as session:
        assert [w.split("_")[1] for w in await remaining(session)] == ["pending"]
