"""Scheduled jobs that run once per due time, however many replicas run them (SPEC §7).

A job is a plain async function `f(session, *, now) -> dict | None`: idempotent,
never committing (STYLE.md rule 7). `run_job` owns its transaction: it takes a
transaction-scoped advisory lock (released at commit or rollback, so it cannot
leak onto a pooled connection the way a session lock can), claims the due time
in `job_runs`, runs the function, and commits the claim with the work. A failed
run rolls back both, so the due time can run again.

Each process runs its own APScheduler 3 scheduler with an in-memory job store
(`start_scheduler`); the replicas never share a store. They all fire at the same
due times, computed from the job's anchor, and `job_runs` lets one of them run it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from shared.db import Database
from shared.events import lock_key
from shared.models.columns import Json
from shared.observability import JOB_RUNS

log = structlog.get_logger("warnex.scheduler")

# How long after a failed run the scheduler tries the same due time again.
RETRY_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class Job:
    """A scheduled job: due at anchor + k * every for every whole k.

    The default anchor is a Monday at local midnight, so a weekly job is due on
    Mondays at 00:00 Asia/Shanghai and a daily one at local midnight.
    """

    name: str
    func: Callable[..., Awaitable[dict[str, Any] | None]]
    every: timedelta
    description: str = ""
    anchor: datetime = datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


def due_time(job: Job, now: datetime) -> datetime:
    """The latest anchor + k * every at or before `now` (in the anchor's time zone).

    Computed in absolute time, so every replica gets the same instant.
    """
    if now.tzinfo is None:
        raise ValueError("due_time needs an aware datetime")
    anchor = job.anchor.astimezone(UTC)
    periods = (now.astimezone(UTC) - anchor) // job.every
    return (anchor + periods * job.every).astimezone(job.anchor.tzinfo)


_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")
_CLAIM = text(
    "INSERT INTO job_runs (job_name, due_at, started_at, outcome)"
    " VALUES (:name, :due, :now, '{}'::jsonb) ON CONFLICT DO NOTHING RETURNING job_name"
)
_RECORD = text(
    "UPDATE job_runs SET outcome = :outcome WHERE job_name = :name AND due_at = :due"
).bindparams(bindparam("outcome", type_=Json))


async def run_job(db: Database, job: Job, *, now: datetime, manual: bool = False) -> str:
    """Run `job` for its due time at `now` (for `now` itself if manual), at most once.

    Returns "ran: <outcome json>", "skipped: running elsewhere" or
    "skipped: already ran for <due>". An exception from the job propagates and
    leaves no trace in `job_runs`, so the due time can be run again.
    """
    due = now if manual else due_time(job, now)
    try:
        async with db.transaction() as session:
            result = await _run_claimed(session, job, due=due, now=now)
    except Exception:
        JOB_RUNS.labels(job.name, "failed").inc()
        raise
    JOB_RUNS.labels(job.name, result.partition(":")[0]).inc()
    return result


async def _run_claimed(session: AsyncSession, job: Job, *, due: datetime, now: datetime) -> str:
    if not await session.scalar(_TRY_LOCK, {"key": lock_key("job", job.name)}):
        return "skipped: running elsewhere"
    # The row, not the lock, is what makes a due time run once: the lock only
    # spares a replica from waiting on another's uncommitted claim.
    if await session.scalar(_CLAIM, {"name": job.name, "due": due, "now": now}) is None:
        return f"skipped: already ran for {due.isoformat()}"
    outcome = await job.func(session, now=now) or {}
    await session.execute(_RECORD, {"outcome": outcome, "name": job.name, "due": due})
    return "ran: " + orjson.dumps(outcome).decode()


def start_scheduler(db: Database, jobs: Sequence[Job]) -> AsyncIOScheduler:
    """Start this process's scheduler (in-memory store) firing each job at its due times.

    Each job also fires once at start, so a due time missed while every replica
    was down (or whose run failed before a restart) runs now; a failed run is
    tried again after RETRY_AFTER (or `every`, if shorter). Must be called with
    the event loop running; stop it with `.shutdown(wait=False)`.
    """
    scheduler = AsyncIOScheduler(timezone=UTC)

    async def fire(job: Job) -> None:
        try:
            outcome = await run_job(db, job, now=clock.now())
        except Exception as exc:
            log.error("job_failed", job=job.name, error=type(exc).__name__)
            # APScheduler keeps wall-clock time, whatever the test clock says.
            retry_at = datetime.now(UTC) + min(RETRY_AFTER, job.every)
            # One pending retry per job, however many runs fail meanwhile.
            scheduler.add_job(
                fire,
                "date",
                run_date=retry_at,
                args=(job,),
                id=f"{job.name}:retry",
                replace_existing=True,
                misfire_grace_time=None,
            )
            return
        log.info("job_run", job=job.name, outcome=outcome)

    for job in jobs:
        trigger = IntervalTrigger(
            seconds=job.every.total_seconds(), start_date=job.anchor, timezone=job.anchor.tzinfo
        )
        scheduler.add_job(
            fire,
            trigger,
            args=(job,),
            id=job.name,
            name=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        scheduler.add_job(fire, args=(job,), id=f"{job.name}:start", misfire_grace_time=None)
    scheduler.start()
    return scheduler
