"""Assistance (帮扶) of the demo's monitoring objects through the assistance
and identification APIs: measures planned, started and completed on their
days, monthly visits and look-backs (assessments), and for the objects
included months ago the end of the story: risk eliminated (风险消除), some
naturally (自然消除, without any measure), one ready to be eliminated and
left on the worklist, one flagged as a household without labour
(整户无劳动能力) that stays under the safety net; and requests up the demo's
chain (services/demo/workflow.py): one removed (清退) as identified in error
and one eliminated object rolled back (风险消除回退) after a look-back, both
approved up to the province, one rollback rejected by the city, one pending.

Some objects are left with gaps on purpose (no development measure, no
insurance subsidy, no measure at all, no visit for over a month), so that
`GET /assistance/v1/gaps` has something to show.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from services.demo.context import Demo
from services.demo.driver import Headers
from services.demo.registry import PoolHousehold
from services.demo.timeline import Action

if TYPE_CHECKING:
    from services.demo.workflow import Requests

MEASURES = "/assistance/v1/measures"
OBJECTS = "/assistance/v1/monitoring_objects"

# The first old objects' stories, in the order they are planned (SPEC §12).
FIRST_STORIES = {
    1: "rollback",
    2: "removal",
    3: "natural",
    4: "ready",
    5: "rollback_rejected",
    6: "rollback_pending",
    7: "natural",
}
# Stories whose object is eliminated (and may be asked back).
ELIMINATED = ("eliminate", "natural", "rollback", "rollback_rejected", "rollback_pending")

LINE = 6900.0  # the shipped policy's monitoring line; the demo keeps clear of it
DEVELOPMENT = ("industry", "employment", "public_welfare_job", "microcredit", "skills_training")
# Yuan per measure, where money moves.
AMOUNTS: dict[str, tuple[float, float] | None] = {
    "industry": (3000, 8000),
    "employment": None,
    "public_welfare_job": (4800, 7200),
    "microcredit": (30000, 50000),
    "skills_training": (800, 1500),
    "dibao": (3000, 5400),
    "tekun": (6000, 9000),
    "temporary_assistance": (1000, 5000),
    "insurance_subsidy": (350, 380),
    "medical_assistance": (2000, 15000),
    "anti_poverty_insurance": (100, 200),
}


def _has_labour(household: PoolHousehold) -> bool:
    return any(p.labour in ("full", "partial") for p in household.members)


def household_lane(household: PoolHousehold) -> str:
    """The timeline lane of a household's cases, object, measures and visits."""
    return f"{household.county_code}:{household.household_id}"


class AssistancePlanner:
    def __init__(self, demo: Demo, requests: Requests) -> None:
        self.demo = demo
        self.requests = requests
        self._old_seen = 0
        self._flagged = False
        # Objects included today, planned at the day's end (in household order,
        # so that the plans do not depend on which lane finished first).
        self._included: list[tuple[str, PoolHousehold, date, bool]] = []

    def included(self, object_id: str, household: PoolHousehold, day: date, *, old: bool) -> None:
        """Note an object included on `day`; it is planned at the day's end."""
        self._included.append((object_id, household, day, old))

    async def on_day(self, day: date) -> None:
        del day
        waiting = sorted(self._included, key=lambda item: household_lane(item[1]))
        self._included.clear()
        for object_id, household, included, old in waiting:
            self.plan(object_id, household, included, old=old)

    # -- measures -------------------------------------------------------------

    def measure_body(self, category: str, day: date) -> dict[str, Any]:
        body: dict[str, Any] = {"category": category, "planned_on": day.isoformat()}
        span = AMOUNTS.get(category)
        if span is not None:
            body["amount_yuan"] = round(self.demo.rng.uniform(*span), 2)
        return body

    async def green_channel_measure(
        self, case_id: str, body: dict[str, Any], county: Headers
    ) -> None:
        """Temporary assistance for a green-channel case before its decision."""
        await self.demo.driver.call("POST", MEASURES, county, {"case_id": case_id, **body})

    def _measure(
        self,
        household: PoolHousehold,
        object_id: str,
        category: str,
        planned: date,
        *,
        start_after: int | None,
        complete_after: int | None = None,
    ) -> None:
        """Plan a measure on `planned`; start it `start_after` days later and
        complete it `complete_after` days after that (None: not yet)."""
        body = {"object_id": object_id, **self.measure_body(category, planned)}
        lane = household_lane(household)

        async def plan() -> None:
            who = await self.demo.village_staff(household.region_code)
            measure = await self.demo.driver.call("POST", MEASURES, who, body)
            if start_after is None:
                return
            started = planned + timedelta(days=start_after)
            path = f"{MEASURES}/{measure['measure_id']}"
            moves = [(started, "in_progress")]
            if complete_after is not None:
                moves.append((started + timedelta(days=complete_after), "completed"))
            for day, status in moves:
                self.demo.timeline.at(day, self._move(household, path, status, day), lane=lane)

        self.demo.timeline.at(planned, plan, lane=lane)

    def _move(self, household: PoolHousehold, path: str, status: str, day: date) -> Action:
        dated = "started_on" if status == "in_progress" else "completed_on"
        body = {"status": status, dated: day.isoformat()}

        async def move() -> None:
            who = await self.demo.village_staff(household.region_code)
            await self.demo.driver.call("PATCH", path, who, body)

        return move

    # -- assessments ----------------------------------------------------------

    def _assess(
        self,
        household: PoolHousehold,
        object_id: str,
        day: date,
        income: float,
        *,
        kind: str = "routine",
        medical_secure: bool = True,
    ) -> None:
        body = {
            "assessed_on": day.isoformat(),
            "kind": kind,
            "income_per_capita_yuan": round(income, 2),
            "rigid_expenditure_yuan": round(self.demo.rng.uniform(500, 9000), 2),
            "housing_secure": True,
            "education_secure": True,
            "medical_secure": medical_secure,
            "drinking_water_secure": True,
        }

        async def assess() -> None:
            who = await self.demo.village_staff(household.region_code)
            await self.demo.driver.call("POST", f"{OBJECTS}/{object_id}/assessments", who, body)

        self.demo.timeline.at(day, assess, lane=household_lane(household))

    def _county_call(
        self,
        household: PoolHousehold,
        day: date,
        method: Literal["POST", "PUT"],
        path: str,
        body: dict[str, Any],
    ) -> None:
        """A county staff member's call on `day` (elimination, flags)."""

        async def call() -> None:
            county = await self.demo.county_staff(household.region_code)
            await self.demo.driver.call(method, path, county, body)

        self.demo.timeline.at(day, call, lane=household_lane(household))

    # -- plans ----------------------------------------------------------------

    def plan(self, object_id: str, household: PoolHousehold, included: date, *, old: bool) -> None:
        """Measures and visits for an object included on `included`; for one
        included months ago (`old`), also how its monitoring ends."""
        rng = self.demo.rng

        def day(days: int) -> date:
            return included + timedelta(days=days)

        labour = _has_labour(household)
        story = self._story(labour) if old else None
        if not old and rng.random() < 0.05:
            return  # nothing planned: the no_measure_30d gap
        if story == "natural":
            pass  # 自然消除: the risk ended without any measure
        elif old or rng.random() < 0.85:
            self._measure(
                household, object_id, "insurance_subsidy", day(rng.randint(1, 6)),
                start_after=rng.randint(1, 5), complete_after=rng.randint(10, 40),
            )  # fmt: skip
        if story != "natural" and labour and (old or rng.random() < 0.8):
            category = rng.choice(DEVELOPMENT)
            complete = rng.randint(30, 120) if category == "skills_training" else None
            self._measure(
                household, object_id, category, day(rng.randint(2, 12)),
                start_after=rng.randint(3, 20), complete_after=complete,
            )  # fmt: skip
        if story != "natural" and (not labour or rng.random() < 0.2):
            category = "tekun" if len(household.members) == 1 else "dibao"
            self._measure(
                household, object_id, category, day(rng.randint(3, 10)),
                start_after=rng.randint(2, 10),
            )  # fmt: skip
        if story != "natural" and rng.random() < 0.2:
            self._measure(
                household, object_id, "anti_poverty_insurance", day(rng.randint(3, 15)),
                start_after=rng.randint(0, 5),
            )  # fmt: skip
        if story is not None:
            self._old_object_story(object_id, household, included, story)
        else:
            income = rng.uniform(0.7, 1.1) * LINE
            self._assess(household, object_id, day(rng.randint(15, 32)), income)

    def _story(self, labour: bool) -> str:
        """How an old object's monitoring ends: the first ones show the workflow
        (SPEC §12), the others are eliminated, flagged or still monitored."""
        self._old_seen += 1
        story = FIRST_STORIES.get(self._old_seen)
        if story is None:
            flag = not labour and not self._flagged
            story = "flag" if flag else "eliminate" if self.demo.rng.random() < 0.6 else "monitor"
        self._flagged = self._flagged or story == "flag"
        return story

    def _old_object_story(
        self, object_id: str, household: PoolHousehold, included: date, story: str
    ) -> None:
        """Eliminated (some naturally; some asked back up the chain), ready to
        be eliminated, removed, flagged, or still monitored with its income not
        yet stably above the line."""
        rng, today = self.demo.rng, self.demo.today
        path = f"{OBJECTS}/{object_id}"
        first = included + timedelta(days=rng.randint(5, 15))
        middle = included + timedelta(days=rng.randint(80, 120))
        latest = max(first + timedelta(days=181), today - timedelta(days=rng.randint(15, 30)))
        decided = latest + timedelta(days=rng.randint(1, 3))
        if story in ELIMINATED and decided >= today - timedelta(days=10):
            story = "monitor"  # too recent to decide and ask back before today
        if story == "removal":
            removed = included + timedelta(days=rng.randint(20, 60))
            self.requests.file(
                household, object_id, kind="removal",
                reason="经比对家庭有城镇商品房和经营性车辆，属识别错误", filed=removed,
                decisions=[(removed + timedelta(days=n), "approved") for n in (3, 7, 12)],
            )  # fmt: skip
            return
        if story == "flag":
            flagged = included + timedelta(days=rng.randint(10, 30))
            flags = {"whole_household_no_labour": True}
            self._county_call(household, flagged, "PUT", f"{path}/flags", flags)
        above = story in ELIMINATED or story == "ready"
        self._assess(household, object_id, first, rng.uniform(1.06, 1.4) * LINE if above
                     else rng.uniform(0.7, 0.98) * LINE)  # fmt: skip
        self._assess(household, object_id, middle, rng.uniform(1.08, 1.5) * LINE if above
                     else rng.uniform(0.9, 1.1) * LINE)  # fmt: skip
        # Some still monitored were last visited over a month ago: visit_overdue.
        last = latest if above else today - timedelta(days=rng.randint(3, 45))
        income = rng.uniform(1.15, 1.9) * LINE if above else rng.uniform(0.85, 1.2) * LINE
        self._assess(household, object_id, last, income, kind="look_back" if above else "routine")
        if story not in ELIMINATED:
            return  # "ready" stays on the ready_to_eliminate worklist
        body: dict[str, Any] = {"decided_on": decided.isoformat()}
        if story == "natural":
            body |= {"natural": True, "reason": "子女外出务工收入稳定增长，风险自然消除"}
        self._county_call(household, decided, "POST", f"{path}/elimination", body)
        self._asked_back(household, object_id, decided, story)

    def _asked_back(
        self, household: PoolHousehold, object_id: str, decided: date, story: str
    ) -> None:
        """After the elimination on `decided`: a rollback up the chain, applied
        (after a look-back finds a new illness), rejected by the city, or
        pending at the city (a rollback candidate meanwhile)."""
        rng, today = self.demo.rng, self.demo.today

        def after(days: int) -> date:
            return min(decided + timedelta(days=days), today)

        if story == "rollback":
            back = today - timedelta(days=rng.randint(6, 9))
            self._assess(
                household, object_id, back, rng.uniform(0.6, 0.9) * LINE,
                kind="look_back", medical_secure=False,
            )  # fmt: skip
            self.requests.file(
                household, object_id, kind="rollback",
                reason="回头看发现家庭成员新患大病，收入不稳定，存在返贫风险", filed=back,
                decisions=[(back + timedelta(days=n), "approved") for n in (1, 3, 5)],
            )  # fmt: skip
        elif story == "rollback_rejected":
            self.requests.file(
                household, object_id, kind="rollback",
                reason="村级反映家庭成员务工中断，申请回退", filed=after(3),
                decisions=[(after(5), "approved"), (after(8), "rejected")],
            )  # fmt: skip
        elif story == "rollback_pending":
            self._assess(
                household, object_id, after(4), rng.uniform(0.7, 0.9) * LINE, kind="look_back"
            )
            self.requests.file(
                household, object_id, kind="rollback",
                reason="回头看发现家庭收入低于监测线，申请回退", filed=after(5),
                decisions=[(after(7), "approved")],
            )  # fmt: skip
