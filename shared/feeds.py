"""Feed state (SPEC §3, feed cadence), shared by ingest's feeds and reporting.

Feeds are rolling: a feed is due `cadence_days` after its last push (a zero
report counts), `due_soon` when `due_soon_days` or fewer remain, `late` once
the due time has passed. A feed never pushed has no due time: it is
`never_pushed`. A type the policy gives no cadence is never due (it stays
`on_time` once pushed). Due times are absolute hours (cadence * 24 h), not
calendar days, so no session time zone can shift them.

A type the policy tracks per population (`[feeds.population_cadence_days]`:
`high_medical_expense`) is two feeds, `monitored_and_alleviated` and
`general`, each with its cadence; every other feed is of population `all`.
A push counts for a population when it holds a record of a person of that
population (PERSON_POPULATION), or is a zero report (`pushed_feeds`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import DEPARTMENTS, WARNING_TYPES
from shared.policy import FEED_POPULATIONS, get_policy

ALL = "all"
Population = Literal["all", "monitored_and_alleviated", "general"]
FeedStateCode = Literal["on_time", "due_soon", "late", "never_pushed"]
FEED_STATES: tuple[FeedStateCode, ...] = ("on_time", "due_soon", "late", "never_pushed")


@dataclass(frozen=True, slots=True)
class Feed:
    department: str
    warning_type: str
    cadence_days: int | None
    population: str = ALL


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
    policy = get_policy().feeds
    feeds = []
    for dept in DEPARTMENTS:
        if department not in (None, dept):
            continue
        for t in WARNING_TYPES.values():
            if t.department != dept or t.kind != "periodic":
                continue
            per_population = policy.population_cadence_days.get(t.code)
            if per_population is None:
                feeds.append(Feed(dept, t.code, policy.cadence_days.get(t.code)))
            else:
                feeds.extend(Feed(dept, t.code, per_population[p], p) for p in FEED_POPULATIONS)
    return feeds


def per_population_types() -> list[str]:
    """The periodic types tracked per population (the policy's)."""
    return sorted(get_policy().feeds.population_cadence_days)


# The households whose members are the `monitored_and_alleviated` population:
# poverty-alleviated, or with an active monitoring object (a probe of the
# objects' household index); the roster's persons (services/warning_ingest/
# roster/listing.py, which joins the objects instead to name each one's group).
# An SQL condition on the household row aliased {h}.
MONITORED_OR_ALLEVIATED_HOUSEHOLD = (
    "({h}.category = 'poverty_alleviated' OR EXISTS (SELECT 1 FROM monitoring_objects po"
    " WHERE po.county_code = {h}.county_code AND po.household_id = {h}.household_id"
    " AND po.status = 'risk_not_eliminated'))"
)

# Whether the person whose ID number hashes to {id_hash} is of the
# `monitored_and_alleviated` population: a member of such a household (an SQL
# condition; a probe of ix_members_id_hash). Anyone else, an unknown person
# too, is `general`.
IN_MONITORED_OR_ALLEVIATED = (
    "EXISTS (SELECT 1 FROM members pm JOIN households ph"  # noqa: S608 (constant fragments)
    " ON ph.county_code = pm.county_code AND ph.household_id = pm.household_id"
    " WHERE pm.id_hash = {id_hash} AND " + MONITORED_OR_ALLEVIATED_HOUSEHOLD.format(h="ph") + ")"
)

# The feeds (warning_type, population) a batch pushes, for `INSERT INTO
# feed_pushes`: those decided already (:types, :populations), and the feeds of
# records of per-population types placed by their persons (:p_types, :p_hashes).
FEED_PUSH_ROWS = (
    "SELECT d.warning_type, d.population FROM unnest(CAST(:types AS text[]),"  # noqa: S608
    " CAST(:populations AS text[])) AS d(warning_type, population)"
    " UNION SELECT r.warning_type, CASE WHEN "
    + IN_MONITORED_OR_ALLEVIATED.format(id_hash="r.id_hash")
    + " THEN 'monitored_and_alleviated' ELSE 'general' END"
    " FROM unnest(CAST(:p_types AS text[]), CAST(:p_hashes AS bytea[])) AS r(warning_type, id_hash)"
)


def feed_push_params(
    department: str,
    *,
    zero_report: bool,
    seen: Iterable[tuple[str, str]] = (),
    records: Iterable[tuple[str, bytes]] = (),
) -> dict[str, list[Any]]:
    """The bind parameters of FEED_PUSH_ROWS for a batch of `department`.

    A zero report pushes every feed of the department. Otherwise: the feeds in
    `seen` (warning_type, population), and for `records` (warning_type, id_hash)
    the `all` feed of an ordinary periodic type, while a per-population type's
    record goes to the statement, which places it by its person."""
    feeds = [(f.warning_type, f.population) for f in periodic_feeds(department)]
    placed: list[tuple[str, bytes]] = []
    if zero_report:
        decided = feeds
    else:
        per_population = set(per_population_types())
        known = set(seen)
        for warning_type, id_hash in records:
            if warning_type in per_population:
                placed.append((warning_type, id_hash))
            else:
                known.add((warning_type, ALL))
        decided = [f for f in feeds if f in known]
    return {
        "types": [t for t, _ in decided],
        "populations": [p for _, p in decided],
        "p_types": [t for t, _ in placed],
        "p_hashes": [h for _, h in placed],
    }


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
    "SELECT f.department, f.warning_type, f.population, p.last_push_at"
    " FROM unnest(CAST(:departments AS text[]), CAST(:types AS text[]),"
    "             CAST(:populations AS text[]))"
    "      WITH ORDINALITY AS f(department, warning_type, population, ord)"
    " CROSS JOIN LATERAL ("
    "   SELECT max(fp.pushed_at) AS last_push_at FROM feed_pushes fp"
    "   WHERE fp.department = f.department AND fp.warning_type = f.warning_type"
    "     AND fp.population = f.population"
    " ) p ORDER BY f.ord"
)


def feed_arrays(feeds: list[Feed]) -> dict[str, list[str] | list[int | None]]:
    """The feeds as the parallel arrays the feed statements unnest."""
    return {
        "departments": [f.department for f in feeds],
        "types": [f.warning_type for f in feeds],
        "populations": [f.population for f in feeds],
        "cadences": [f.cadence_days for f in feeds],
    }


async def feed_states(
    session: AsyncSession, *, now: datetime, department: str | None = None
) -> list[FeedState]:
    """Every periodic feed's last push, due time and state at `now` (one statement)."""
    feeds = periodic_feeds(department)
    arrays = feed_arrays(feeds)
    del arrays["cadences"]
    rows = await session.execute(_LAST_PUSHES, arrays)
    last = {(r.department, r.warning_type, r.population): r.last_push_at for r in rows}
    due_soon_days = get_policy().feeds.due_soon_days
    states = []
    for feed in feeds:
        last_push_at = last.get((feed.department, feed.warning_type, feed.population))
        next_due_at, state = feed_state(
            last_push_at=last_push_at,
            cadence_days=feed.cadence_days,
            now=now,
            due_soon_days=due_soon_days,
        )
        states.append(FeedState(feed, last_push_at, next_due_at, state))
    return states
