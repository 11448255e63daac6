"""`warnex demo`: load a realistic synthetic county into an empty database.

The entry point `warnex.demo:load` (pyproject.toml) names `load_demo`; the CLI
opens and migrates the database, then calls it. In order:

1. the registry (regions, households, members), in one transaction that
   first makes sure the database is empty (a second demo is refused, never
   loaded twice);
2. the principals whose tokens are printed at the end;
3. eight months of the demo's past, day by day with the clock held on each
   day: manual clues months ago, six weeks of department pushes, every case
   through its steps, assistance, assessments, risk elimination (some
   natural), requests up a province-level chain (a removal and a rollback
   applied, one rejected, one pending), monthly visits, the consumers caught
   up and the jobs run at every day's end;
4. the screening campaign in progress (services/demo/screening.py).

The whole run holds the demo's chain for requests (services/demo/workflow.py,
deploy/policy/province-chain.toml) over the deployment's policy.

Everything after the registry goes through the services' HTTP APIs
in-process, so that every event, audit record and derived figure is the
services' own. The same seed and size give the same registry.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.demo.assistance import AssistancePlanner
from services.demo.cases import CasePlanner
from services.demo.clues import Clues
from services.demo.context import Demo
from services.demo.driver import Driver
from services.demo.feeds import Pusher
from services.demo.principals import issue_principals
from services.demo.registry import load_registry, plan_registry
from services.demo.report import DemoReport, gather_report
from services.demo.screening import screening_campaign
from services.demo.sizes import SIZES
from services.demo.timeline import DAILY_DAYS, LANES_AT_ONCE, Timeline
from services.demo.workflow import MonthlyVisits, Requests, demo_policy
from shared import clock
from shared.db import Database, get_database, use_database
from shared.events import lock_key
from shared.pii import PiiProtector
from shared.policy import holding_policy
from shared.settings import get_settings

# Days before today that always run (the daily jobs, the weekly snapshots),
# whether or not anything else happens on them.
QUIET_DAYS = 70

_ALREADY_LOADED = text(
    "SELECT (SELECT count(*) FROM regions), (SELECT count(*) FROM households),"
    " (SELECT count(*) FROM warnings), (SELECT count(*) FROM cases)"
)


class DemoRefused(Exception):
    """The database is not empty; nothing was loaded. `refused` lets the CLI
    (which may not import this class) tell it from a failure."""

    refused = True


async def load_demo(
    db: Database,
    *,
    seed: int = 1,
    size: str = "county",
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Load the demo of `size` (small, county or province) from `seed` into
    `db` (migrated, empty); return what it holds and the tokens to try.

    Raises DemoRefused, having changed nothing, when the database already
    holds regions, households, warnings or cases. While it runs, the
    process's database (which the in-process services use) is the demo's
    own engine to `db`'s database; the one before is restored at the end.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}")
    say = progress or (lambda _: None)
    started = time.monotonic()
    try:
        previous: Database | None = get_database()
    except RuntimeError:
        previous = None
    own = _fast_commits(db)
    use_database(own)
    driver = Driver(own, now=clock.now())
    try:
        with holding_policy(demo_policy()):
            return await _load(own, driver, seed=seed, size=size, say=say, started=started)
    finally:
        await driver.close()
        await own.dispose()
        use_database(previous)


async def _load(
    own: Database,
    driver: Driver,
    *,
    seed: int,
    size: str,
    say: Callable[[str], None],
    started: float,
) -> DemoReport:
    """The registry, the principals, the past and the report (see load_demo)."""
    spec = SIZES[size]
    registry = plan_registry(seed, spec)
    async with own.transaction() as session:
        # Held to the commit: a second demo started meanwhile waits, then refuses.
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key("demo", "load")}
        )
        await _refuse_unless_empty(session)
        say(f"loading the registry ({spec.households * spec.counties:,} households)")
        await load_registry(
            session,
            registry,
            seed=seed,
            size=spec,
            protector=PiiProtector.from_secret(get_settings().secret_bytes()),
            today=driver.today,
        )
    say(f"registry loaded in {time.monotonic() - started:.0f} s; now the weeks of work")
    demo = Demo(
        driver=driver,
        timeline=Timeline(driver),
        registry=registry,
        size=spec,
        rng=random.Random(f"warnex-demo-activity:{seed}"),
    )
    await issue_principals(demo)
    await _run_the_past(demo)
    await screening_campaign(demo)
    spent = ", ".join(f"{k} {v:.0f} s" for k, v in demo.timeline.seconds.items())
    say(
        f"{demo.timeline.days_run} days, {driver.calls:,} API calls,"
        f" {driver.settle_rounds:,} rounds of the consumers ({spent})"
    )
    return await gather_report(demo, seed=seed, seconds=time.monotonic() - started)


def _fast_commits(db: Database) -> Database:
    """The demo's own engine to `db`'s database, whose commits do not wait for
    the WAL to reach the disk (`synchronous_commit = off`, as bulk loads do):
    the demo commits some ten thousand small transactions, and a crash can
    lose only the last of them, never leave the database inconsistent."""
    own = Database(db.url, pool_size=LANES_AT_ONCE + 2, max_overflow=2)

    @event.listens_for(own.engine.sync_engine, "connect")
    def _no_flush_wait(connection: Any, _: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("SET synchronous_commit TO off")
        cursor.close()

    return own


async def _refuse_unless_empty(session: AsyncSession) -> None:
    regions, households, warnings, cases = (await session.execute(_ALREADY_LOADED)).one()
    if regions or households or warnings or cases:
        raise DemoRefused(
            "this database is not empty (regions: "
            f"{regions}, households: {households}, warnings: {warnings}, cases: {cases}); "
            "the demo loads only into an empty database and has changed nothing. "
            "Use a fresh data directory (WARNEX_DATA_DIR) or another DATABASE_URL."
        )


async def _run_the_past(demo: Demo) -> None:
    assistance = AssistancePlanner(demo, Requests(demo))
    planner = CasePlanner(demo, assistance)
    Clues(demo, planner).schedule()  # first: the pushes leave its old households alone
    Pusher(demo).schedule()
    MonthlyVisits(demo).schedule()
    demo.timeline.every_day(planner.on_day)
    demo.timeline.every_day(assistance.on_day)

    async def quiet() -> None:
        """Nothing but the day's end: consumers and jobs."""

    for offset in range(QUIET_DAYS, -1, -1):
        day = demo.today - timedelta(days=offset)
        if offset <= DAILY_DAYS or day.weekday() == 0:
            demo.timeline.at(day, quiet)
    await demo.timeline.run()
    await demo.driver.settle()
