"""Manual clues (SPEC §4): self-reports (农户自主申报) and cadres' screening
(乡村干部排查) opened through `POST /identification/v1/cases`.

The old ones, found eight months ago, become the monitoring objects whose
story runs long enough for risk elimination; the recent ones sit among the
department warnings of the last weeks.
"""

from __future__ import annotations

from typing import Any

from services.demo.assistance import household_lane
from services.demo.cases import CASES, CasePlanner
from services.demo.context import Demo
from services.demo.registry import PoolHousehold
from services.demo.timeline import Action

# (risk types, description) of the clues a village hears of.
CLUES = (
    (["illness"], "家庭成员患重病住院，自付医疗费用较高"),
    (["disability"], "家庭成员因残丧失劳动能力"),
    (["accident"], "家庭主要劳动力意外受伤，收入骤减"),
    (["schooling"], "多名子女在读，教育支出负担重"),
    (["unstable_employment"], "外出务工中断，家庭收入明显下降"),
    (["industry_failure"], "种植的猕猴桃遭遇冻害，产业收入大幅减少"),
    (["lack_of_labour", "illness"], "老人独居，体弱多病，缺少劳动力"),
    (["housing"], "房屋出现裂缝，住房安全存在隐患"),
)
# Old clues are found over these days (from today): old enough that their
# objects have been monitored 180 days and more.
OLD_FROM, OLD_TO = -262, -228
RECENT_FROM, RECENT_TO = -40, -1


class Clues:
    def __init__(self, demo: Demo, planner: CasePlanner) -> None:
        self.demo = demo
        self.planner = planner

    def schedule(self) -> None:
        """Schedule the clues. The first old ones are about a poverty-alleviated
        household, a sudden accident and unsafe housing, so that objects of all
        three monitoring types come of them; two recent ones fall due soon."""
        rng, size, pool = self.demo.rng, self.demo.size, self.demo.registry.pool
        first = [next(h for h in pool if h.category == "poverty_alleviated")]
        first += [h for h in pool if h.category == "general"][:2]
        others = [h for h in pool if h not in first]
        households = first + rng.sample(others, size.old_clues + size.recent_clues - 3)
        self.demo.old_households.update(h.household_id for h in households[: size.old_clues])
        for n, household in enumerate(households):
            old = n < size.old_clues
            if old:
                offset = rng.randint(OLD_FROM, OLD_TO)
            else:
                recent = n - size.old_clues
                offset = (-14, -13)[recent] if recent < 2 else rng.randint(RECENT_FROM, RECENT_TO)
            risk_types, description = CLUES[2 if n == 1 else 7 if n == 2 else rng.randrange(8)]
            body = {
                "household_id": household.household_id,
                "source": rng.choice(("self_report", "cadre_screening")),
                "found_on": self.demo.day(offset).isoformat(),
                "description": description,
                "risk_types": risk_types,
            }
            self.demo.timeline.at(
                self.demo.day(offset), self._open(household, body, old=old),
                lane=household_lane(household),
            )  # fmt: skip

    def _open(self, household: PoolHousehold, body: dict[str, Any], *, old: bool) -> Action:
        async def open_clue() -> None:
            who = await self.demo.village_staff(household.region_code)
            # 409: the household has an open case already; the clue joins nothing.
            case = await self.demo.driver.call("POST", CASES, who, body, accept=(201, 409))
            if old and "state" in case:  # opened (a 409 problem has no state)
                self.planner.old_cases.add(case["case_id"])

        return open_clue
