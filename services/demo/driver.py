"""Drives the four services in-process for the demo: HTTP calls through the
real app (httpx with ASGITransport), the clock set to a day of the demo's
past, the event consumers run until they have caught up, and the scheduled
jobs run for that moment.

Every write of the demo after the registry goes through here, so that its
events, audit records and derived state are the ones the services make.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any, Literal

import httpx
from sqlalchemy import text

from services.app import create_app
from services.assistance.consumers import CONSUMERS as ASSISTANCE_CONSUMERS
from services.assistance.jobs import JOBS as ASSISTANCE_JOBS
from services.identification.consumers import CONSUMERS as IDENTIFICATION_CONSUMERS
from services.identification.jobs import JOBS as IDENTIFICATION_JOBS
from services.reporting.consumers import CONSUMERS as REPORTING_CONSUMERS
from services.reporting.jobs import JOBS as REPORTING_JOBS
from services.warning_ingest.consumers import CONSUMERS as INGEST_CONSUMERS
from services.warning_ingest.jobs import JOBS as INGEST_JOBS
from shared import audit, clock
from shared.auth import issue_token
from shared.db import Database
from shared.scheduler import Job, run_job

CONSUMERS = [
    *INGEST_CONSUMERS,
    *IDENTIFICATION_CONSUMERS,
    *ASSISTANCE_CONSUMERS,
    *REPORTING_CONSUMERS,
]
# Run at the end of every day of the demo (the weekly snapshot on Mondays).
DAILY_JOBS: list[Job] = [*INGEST_JOBS, *IDENTIFICATION_JOBS, *ASSISTANCE_JOBS]
WEEKLY_JOBS: list[Job] = list(REPORTING_JOBS)
# Days before today on which the daily jobs run.
JOBS_DAYS = 45
# How long the consumers may take to catch up once (a long transaction
# elsewhere on the server holds them back, see shared/events.py).
SETTLE_TIMEOUT_SECONDS = 120.0
BASE_URL = "http://warnex.demo"

Headers = dict[str, str]


class DemoError(RuntimeError):
    """A call of the demo was refused: a bug in the demo, not in the data."""


_POSITIONS_BEHIND = text(
    "SELECT count(*) FROM consumer_positions p"
    " WHERE p.name = ANY(CAST(:names AS text[]))"
    " AND (p.xid, p.event_id) < (SELECT xid, id FROM events ORDER BY xid DESC, id DESC LIMIT 1)"
)
_POSITIONS_KNOWN = text(
    "SELECT count(*) FROM consumer_positions WHERE name = ANY(CAST(:names AS text[]))"
)
_LAST_EVENT = text("SELECT max(id) FROM events")


class Driver:
    """The in-process services, a clock to step, and the demo's principals."""

    def __init__(self, db: Database, *, now: datetime) -> None:
        self.db = db
        self.now = now
        self.today = clock.local_date(now)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app()), base_url=BASE_URL, timeout=300
        )
        self.calls = 0
        self._settled_at: int | None = -1
        self.settle_rounds = 0
        self._staff: dict[tuple[str, str], str] = {}
        self._staff_lock = asyncio.Lock()  # lanes run side by side: one member per place

    async def close(self) -> None:
        await self.client.aclose()

    # -- time -----------------------------------------------------------------

    def instant(self, day: date) -> datetime:
        """The moment of `day` at the time of day the demo runs."""
        return self.now - timedelta(days=(self.today - day).days)

    @contextmanager
    def on(self, day: date) -> Iterator[None]:
        """Hold the clock on `day` (today: the real now) for the block."""
        if day > self.today:
            raise ValueError("the demo never acts in the future")
        with clock.frozen_at(self.instant(day)):
            yield

    # -- calls ----------------------------------------------------------------

    async def call(
        self,
        method: Literal["GET", "POST", "PUT", "PATCH"],
        path: str,
        who: Headers,
        body: Any = None,
        *,
        accept: tuple[int, ...] = (200, 201),
    ) -> Any:
        """Call the API as `who`; the JSON answer, or DemoError for another status."""
        self.calls += 1
        response = await self.client.request(method, path, json=body, headers=who)
        if response.status_code not in accept:
            # A problem document carries no personal data (API.md).
            raise DemoError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    # -- principals -----------------------------------------------------------

    async def issue(
        self,
        *,
        kind: Literal["client", "user"],
        name: str,
        department: str | None = None,
        role: str | None = None,
        region_code: str | None = None,
    ) -> str:
        """A new principal's token, made and audited as `warnex admin` does."""
        scope = {"department": department, "role": role, "region_code": region_code}
        scope = {key: value for key, value in scope.items() if value is not None}
        async with self.db.transaction() as session:
            principal, token = await issue_token(
                session, kind=kind, name=name, department=department, role=role,
                region_code=region_code,
            )  # fmt: skip
            await audit.record(
                session,
                actor="system:demo",
                action="principal.created",
                target_type="principal",
                target_id=str(principal.id),
                details={"kind": kind, **scope},
            )
        return token

    async def staff(self, role: str, region_code: str, name: str) -> Headers:
        """Headers of the demo's staff member of `role` over `region_code` (made once)."""
        return bearer(await self.staff_token(role, region_code, name))

    async def staff_token(self, role: str, region_code: str, name: str) -> str:
        key = (role, region_code)
        async with self._staff_lock:
            if key not in self._staff:
                token = await self.issue(kind="user", name=name, role=role, region_code=region_code)
                self._staff[key] = token
        return self._staff[key]

    # -- consumers and jobs ---------------------------------------------------

    async def settle(self) -> None:
        """Run every consumer until each has read the whole event log.

        A consumer reads only below the oldest running transaction on the
        server; if one elsewhere holds it back, wait for it (up to a limit).
        """
        names = [c.name for c in CONSUMERS]
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        async with self.db.transaction() as session:
            last = await session.scalar(_LAST_EVENT)
        if last == self._settled_at:
            return  # nothing written since the consumers last caught up
        while True:
            self.settle_rounds += 1
            scanned = 0
            for consumer in CONSUMERS:
                scanned += await consumer.drain(self.db)
            async with self.db.transaction() as session:
                behind = await session.scalar(_POSITIONS_BEHIND, {"names": names})
                known = await session.scalar(_POSITIONS_KNOWN, {"names": names})
                last = await session.scalar(_LAST_EVENT)
            if not behind and (known == len(names) or last is None):
                self._settled_at = last
                return
            if time.monotonic() > deadline:
                raise DemoError("the event consumers did not catch up; is a transaction stuck?")
            if not scanned:
                await asyncio.sleep(0.05)

    async def run_jobs(self, day: date) -> None:
        """The scheduled jobs, as they would have run on `day`: the daily ones
        over the last weeks (months ago they would only repeat themselves),
        the weekly snapshot on Mondays."""
        recent = (self.today - day).days <= JOBS_DAYS
        jobs = (DAILY_JOBS if recent else []) + (WEEKLY_JOBS if day.weekday() == 0 else [])
        for job in jobs:
            await run_job(self.db, job, now=clock.now())


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}
