"""The monitoring workflow of SPEC §12 in the demo: requests up a
province-level chain, and the monthly visits.

Requests (风险消除回退, 清退) go up the chain of the demo policy
(deploy/policy/province-chain.toml): township staff file them, county staff
record each level's decision with its 文号 (the city's and the province's
arrive on paper). `warnex demo` runs under that chain whatever the
deployment's `[requests]` says, so that its requests stand at several levels;
every other policy value is the deployment's. The stories of the old objects
(services/demo/assistance.py) use it: a removal and a rollback approved by the
province and applied, a rollback rejected by the city, one pending at the city.

Monthly visits (每月走访): the grid workers visit the poverty-alleviated
households of the demo's pool; most are up to date, some were last visited
over a month ago (`visit_overdue` gaps), and one visit finds a new risk, which
opens a `cadre_screening` case.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy import text

from services.demo.assistance import LINE, household_lane
from services.demo.context import Demo
from services.demo.registry import PoolHousehold
from services.demo.timeline import Action
from shared.policy import Policy, RequestPolicy, get_policy

# The chain of deploy/policy/province-chain.toml (a test keeps them the same).
DEMO_CHAIN = ("county", "city", "province")
REQUESTS = "/identification/v1/monitoring_objects/{}/requests"
DECISIONS = "/identification/v1/requests/{}/decisions"
VISITS = "/assistance/v1/households/{}/visits"
# 文号 prefixes of the offices deciding at each level.
DOCUMENTS = {"county": "眉乡振发", "city": "宝乡振发", "province": "陕乡振发"}
REJECTED_NOTES = "经核实，家庭务工收入已恢复并稳定高于监测线，不予回退"


def demo_policy() -> Policy:
    """The deployment's policy with the demo's chain for both kinds."""
    chain: list[Any] = list(DEMO_CHAIN)
    requests = RequestPolicy(rollback=chain, removal=chain)
    return get_policy().model_copy(update={"requests": requests})


class Requests:
    """Requests filed by the township and decided level by level on their days."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self._numbers = itertools.count(11)

    def file(
        self,
        household: PoolHousehold,
        object_id: str,
        *,
        kind: str,
        reason: str,
        filed: date,
        decisions: list[tuple[date, str]],
    ) -> None:
        """File a `kind` request on `filed`, then record the chain's decisions
        (day, "approved" | "rejected"), lowest level first; fewer decisions
        than levels leave it pending."""
        lane = household_lane(household)
        request: dict[str, str] = {}
        body = {
            "kind": kind,
            "reason": reason,
            "requested_on": filed.isoformat(),
            "evidence": "村民代表会议记录、入户核查表",
        }

        async def file_it() -> None:
            who = await self.demo.township_staff(household.region_code)
            path = REQUESTS.format(object_id)
            filed_request = await self.demo.driver.call("POST", path, who, body, accept=(201,))
            request["id"] = filed_request["request_id"]

        self.demo.timeline.at(filed, file_it, lane=lane)
        for level, (day, decision) in zip(DEMO_CHAIN, decisions, strict=False):
            self.demo.timeline.at(
                day, self._decide(household, request, level, day, decision), lane=lane
            )

    def _decide(
        self,
        household: PoolHousehold,
        request: dict[str, str],
        level: str,
        day: date,
        decision: str,
    ) -> Action:
        body: dict[str, Any] = {
            "level": level,
            "decision": decision,
            "decided_on": day.isoformat(),
            "document_no": f"{DOCUMENTS[level]}〔{day.year}〕{next(self._numbers)}号",
        }
        if decision == "rejected":
            body["notes"] = REJECTED_NOTES

        async def decide() -> None:
            county = await self.demo.county_staff(household.region_code)
            path = DECISIONS.format(request["id"])
            await self.demo.driver.call("POST", path, county, body)

        return decide


_AT_RISK = text(
    "SELECT EXISTS (SELECT 1 FROM cases WHERE county_code = :county AND household_id = :household"
    "   AND state = 'open')"
    " OR EXISTS (SELECT 1 FROM monitoring_objects WHERE county_code = :county"
    "   AND household_id = :household AND status = 'risk_not_eliminated')"
)
# Days before today of the visit that finds a new risk.
NEW_RISK_DAY = 20
MEMBER_CHANGES = ("一名成员外出务工", "新生儿一名，已办理户口登记", "一名成员返乡务农")


class MonthlyVisits:
    """The monthly visits of the pool's poverty-alleviated households."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo

    def schedule(self) -> None:
        """Most households visited twice in the last weeks (up to date), some
        once over a month ago (overdue); one visit on `NEW_RISK_DAY` finds a
        new risk in the first household with no open case or object then."""
        demo, rng = self.demo, self.demo.rng
        households = [
            h
            for h in demo.registry.pool
            if h.category == "poverty_alleviated" and h.household_id not in demo.old_households
        ]
        for household in households:
            if rng.random() < 0.7:
                days = [rng.randint(35, 50), rng.randint(3, 25)]
            else:
                days = [rng.randint(40, 70)]
            for back in days:
                self._visit(household, demo.day(-back), self._body(household, demo.day(-back)))
        candidates = list(households)
        day = demo.day(-NEW_RISK_DAY)

        async def new_risk() -> None:
            for household in candidates:
                async with demo.driver.db.transaction() as session:
                    params = {"county": household.county_code, "household": household.household_id}
                    if await session.scalar(_AT_RISK, params):
                        continue
                body = self._body(household, day) | {
                    "new_risk": True,
                    "notes": "走访发现家庭成员突发重病，医疗支出大，需启动识别程序",
                }
                who = await demo.village_staff(household.region_code)
                await demo.driver.call(
                    "POST", VISITS.format(household.household_id), who, body, accept=(201,)
                )
                return

        if candidates:
            demo.timeline.at(day, new_risk, lane="visits:new_risk")

    def _body(self, household: PoolHousehold, day: date) -> dict[str, Any]:
        rng = self.demo.rng
        labour = sum(p.labour in ("full", "partial") for p in household.members)
        body: dict[str, Any] = {
            "visited_on": day.isoformat(),
            "income_per_capita_yuan": round(rng.uniform(1.2, 2.4) * LINE, 2),
            "labour_capable_members": labour,
            "employed_members": rng.randint(0, labour),
            "new_risk": False,
        }
        if rng.random() < 0.15:
            body["member_changes"] = rng.choice(MEMBER_CHANGES)
        return body

    def _visit(self, household: PoolHousehold, day: date, body: dict[str, Any]) -> None:
        async def visit() -> None:
            who = await self.demo.village_staff(household.region_code)
            path = VISITS.format(household.household_id)
            await self.demo.driver.call("POST", path, who, body, accept=(201,))

        self.demo.timeline.at(day, visit, lane=household_lane(household))
