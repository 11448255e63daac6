"""The demo's calendar: actions scheduled on days of the past, run in date
order with the clock held on their day. An action may schedule later ones
(a case's next step); what falls after today never happens, which is how
cases end up half-way, due soon or overdue.

At the end of every day with actions, the consumers catch up, end-of-day
hooks run (new cases get their plans; hooks only schedule), and the
scheduled jobs run.

The last weeks run day by day. Before them the demo acts week by week, on
Mondays: an action of an earlier day runs on the next Monday with the date
it carries in its body (a visit entered a few days after it was made), which
spares some hundred rounds of consumers and jobs over empty days.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from services.demo.driver import Driver

Action = Callable[[], Awaitable[None]]
DayHook = Callable[[date], Awaitable[None]]

# Lanes of one day run side by side, each lane's actions in order: a lane is
# one household's cases and object, or one department's pushes. Actions draw
# no random numbers (their bodies are made when they are scheduled), so the
# demo comes out the same whichever lane finishes first.
LANES_AT_ONCE = 4
# Days before today that run day by day (back to the Monday before).
DAILY_DAYS = 45


class Timeline:
    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.today = driver.today
        self._queue: list[tuple[date, date, int, str, Action]] = []
        cutoff = self.today - timedelta(days=DAILY_DAYS)
        self._daily_from = cutoff - timedelta(days=cutoff.weekday())
        self._running: date | None = None
        self._order = itertools.count()
        self._hooks: list[DayHook] = []
        self.days_run = 0
        # Seconds spent in actions, consumers, hooks and jobs (for the summary).
        self.seconds: dict[str, float] = {}

    def at(self, day: date, action: Action, *, lane: str = "") -> None:
        """Run `action` on `day` in `lane` (after the lane's earlier actions of
        that day); an action for a day after today is dropped."""
        if day <= self.today:
            run_on = self.run_day(day)
            if self._running is not None:
                run_on = max(run_on, self._running)
            heapq.heappush(self._queue, (run_on, day, next(self._order), lane, action))

    def run_day(self, day: date) -> date:
        """The day on which an action of `day` runs: itself in the last weeks,
        else the Monday on or after it."""
        if day >= self._daily_from:
            return day
        return day + timedelta(days=-day.weekday() % 7)

    def every_day(self, hook: DayHook) -> None:
        """Run `hook(day)` at the end of every day with actions, after the consumers."""
        self._hooks.append(hook)

    async def run(self) -> None:
        """Run every day's actions in order, up to and including today."""
        while self._queue:
            day = self._queue[0][0]
            self._running = day
            with self.driver.on(day):
                clock = time.monotonic()
                # Actions of this day may add more for the same day.
                while self._queue and self._queue[0][0] == day:
                    await self._run_lanes(day)
                clock = self._lap("actions", clock)
                await self.driver.settle()
                clock = self._lap("consumers", clock)
                for hook in self._hooks:
                    await hook(day)
                clock = self._lap("plans", clock)
                await self.driver.run_jobs(day)
                self._lap("jobs", clock)
            self.days_run += 1

    async def _run_lanes(self, day: date) -> None:
        lanes: dict[str, list[Action]] = {}
        while self._queue and self._queue[0][0] == day:
            _, _, _, lane, action = heapq.heappop(self._queue)
            lanes.setdefault(lane, []).append(action)
        room = asyncio.Semaphore(LANES_AT_ONCE)

        async def run_lane(actions: list[Action]) -> None:
            async with room:
                for action in actions:
                    await action()

        async with asyncio.TaskGroup() as group:
            for actions in lanes.values():
                group.create_task(run_lane(actions))

    def _lap(self, what: str, since: float) -> float:
        now = time.monotonic()
        self.seconds[what] = self.seconds.get(what, 0.0) + now - since
        return now
