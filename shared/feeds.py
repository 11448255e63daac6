"""Feed state (SPEC §3, feed cadence), shared by ingest's feeds and reporting.

Feeds are rolling: a feed is due `cadence_days` after its last push (a zero
report counts), `due_soon` when `due_soon_days` or fewer remain, `late` once
the due time has passed. A feed never pushed has no due time: it is
`never_pushed`. A type the policy gives no cadence is never due (it stays
`on_time` once pushed). Due times are absolute hours (cadence * 24 h), not
calendar days, so no session time zone can shift them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import DEPARTMENTS, WARNING_TYPES
from shared.policy import get_policy

FeedStateCode = Literal["on_time", "due_soon", "late", "never_pushed"]
FEED_STATES: tuple[FeedStateCode, ...] = ("on_time", "due_soon", "late", "never_pushed")


@dataclass(frozen=True, slots=True)
class Feed:
    department: str
    warning_type: str
    cadence_days: int | None


@dataclass(frozen=True, slots=True)
class FeedState:
    feed: Feed
    last_push_at: datetime | None
    next_due_at: datetime | None
    state: FeedStateCode


def periodic_feeds(department: str | None = None) -> list[Feed]:
    """Every periodic feed of the catalog (of one department if given), in catalog order.

    Listed whether or not a client exists for the department: silence from a
    department nobody set up is still a missing feed.
    """
    cadences = get_policy().feeds.cadence_days
    return [
        Feed(t.department, t.code, cadences.get(t.code))
        for dept in DEPARTMENTS
        if department in (None, dept)
        for t in WARNING_TYPES.values()
        if t.department == dept and t.kind == "periodic"
    ]


def feed_state(
    *, last_push_at: datetime | None, cadence_days: int | None, now: datetime, due_soon_days: int
) -> tuple[datetime | None, FeedStateCode]:
    """The feed's next due time and state at `now`."""
    if last_push_at is None:
        return None, "never_pushed"
    if cadence_days is None:
        return None, "on_time"
    due = last_push_at + timedelta(days=cadence_days)
    if now > due:
        return due, "late"
    if due - now <= timedelta(days=due_soon_days):
        return due, "due_soon"
    return due, "on_time"


# One index-only probe of ix_feed_pushes_latest per feed (a dozen), not a scan
# of every push ever made. The feed list comes in as arrays, in catalog order.
_LAST_PUSHES = text(
    "SELECT f.department, f.warning_type, p.last_push_at"
    " FROM unnest(CAST(:departments AS text[]), CAST(:types AS text[]))"
    "      WITH ORDINALITY AS f(department, warning_type, ord)"
    " CROSS JOIN LATERAL ("
    "   SELECT max(fp.pushed_at) AS last_push_at FROM feed_pushes fp"
    "   WHERE fp.department = f.department AND fp.warning_type = f.warning_type"
    " ) p ORDER BY f.ord"
)


async def feed_states(
    session: AsyncSession, *, now: datetime, department: str | None = None
) -> list[FeedState]:
    """Every periodic feed's last push, due time and state at `now` (one statement)."""
    feeds = periodic_feeds(department)
    rows = await session.execute(
        _LAST_PUSHES,
        {"departments": [f.department for f in feeds], "types": [f.warning_type for f in feeds]},
    )
    last = {(r.department, r.warning_type): r.last_push_at for r in rows}
    due_soon_days = get_policy().feeds.due_soon_days
    states = []
    for feed in feeds:
        last_push_at = last.get((feed.department, feed.warning_type))
        next_due_at, state = feed_state(
            last_push_at=last_push_at,
            cadence_days=feed.cadence_days,
            now=now,
            due_soon_days=due_soon_days,
        )
        states.append(FeedState(feed, last_push_at, next_due_at, state))
    return states
