"""Cases (识别认定) through their four steps, through the identification API.

Each new case gets a plan when it opens: its fate (included, not included by
the township or the county, not eligible at the visit, or stalled) and the
days of its steps. The steps run on their days; those that fall after today
do not happen yet, so recent cases stand half-way, cases near their
15-day deadline are due soon, and stalled ones are overdue. Cases of a
sudden risk may take the green channel (绿色通道), with an assistance measure
before the decision and the village review after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text

from services.demo.assistance import LINE, AssistancePlanner, household_lane
from services.demo.context import Demo
from services.demo.registry import PoolHousehold
from shared.catalog import SUDDEN_RISK_TYPES, SUDDEN_WARNING_TYPES

CASES = "/identification/v1/cases"

# The risk type (SPEC §4) a warning type points to.
RISK_OF_WARNING = {
    "high_medical_expense": "illness",
    "serious_illness": "illness",
    "severe_disability": "disability",
    "dibao": "lack_of_funds",
    "tekun": "lack_of_labour",
    "temporary_assistance": "accident",
    "lonely_elderly": "lack_of_labour",
    "left_behind_child": "other",
    "unsafe_housing": "housing",
    "unsafe_drinking_water": "drinking_water",
    "unemployment": "unstable_employment",
    "unstable_employment": "unstable_employment",
    "epidemic_impact": "epidemic",
    "disaster": "disaster",
    "school_dropout": "schooling",
    "poor_new_university_student": "schooling",
    "industry_risk": "industry_failure",
}

# Ages (days since opened) of the cases due within 3 days of their 15-day deadline.
DUE_SOON_AGES = (12, 15)

_NEW_CASES = text(
    "SELECT c.case_id, c.county_code, c.household_id, c.region_code, c.opened_on, c.source,"
    " c.risk_types, array_remove(array_agg(DISTINCT cw.warning_type), NULL) AS warning_types"
    " FROM cases c LEFT JOIN case_warnings cw"
    "   ON cw.case_id = c.case_id AND cw.county_code = c.county_code"
    " WHERE c.opened_on <= :day AND c.state = 'open'"
    " GROUP BY c.case_id, c.county_code ORDER BY c.county_code, c.household_id"
)
_ACTIVE_OBJECT = text(
    "SELECT EXISTS (SELECT 1 FROM monitoring_objects WHERE county_code = :county"
    " AND household_id = :household AND status = 'risk_not_eliminated')"
)
_OBJECT_OF_CASE = text(
    "SELECT object_id FROM monitoring_objects WHERE county_code = :county AND case_id = :case_id"
)


@dataclass
class Case:
    case_id: str
    household: PoolHousehold
    opened_on: date
    risk_types: list[str]
    sudden: bool
    old: bool  # found months ago: included, for the long monitoring

    @property
    def path(self) -> str:
        return f"{CASES}/{self.case_id}"

    @property
    def lane(self) -> str:
        return household_lane(self.household)


class CasePlanner:
    """Plans every case on the day it opens, and records its steps on their days."""

    def __init__(self, demo: Demo, assistance: AssistancePlanner) -> None:
        self.demo = demo
        self.assistance = assistance
        self.households = {(h.county_code, h.household_id): h for h in demo.registry.pool}
        # Cases of the old clues: included, for the long monitoring.
        self.old_cases: set[str] = set()
        self.planned: set[str] = set()

    # -- plans ----------------------------------------------------------------

    async def on_day(self, day: date) -> None:
        """Plan the cases opened until `day` (from warnings or clues) and not yet planned."""
        async with self.demo.driver.db.transaction() as session:
            rows = (await session.execute(_NEW_CASES, {"day": day})).mappings().all()
        for row in rows:
            case_id = str(row["case_id"])
            household = self.households.get((row["county_code"], row["household_id"]))
            if case_id in self.planned or household is None:
                continue
            self.planned.add(case_id)
            risks = sorted(
                {RISK_OF_WARNING[t] for t in row["warning_types"]} | set(row["risk_types"])
            ) or ["other"]
            sudden = bool(
                SUDDEN_WARNING_TYPES.intersection(row["warning_types"])
                or SUDDEN_RISK_TYPES.intersection(row["risk_types"])
            )
            old = case_id in self.old_cases
            case = Case(case_id, household, row["opened_on"], risks, sudden, old=old)
            self._plan(case)

    def _plan(self, case: Case) -> None:
        """Choose the case's fate and schedule its steps, with their bodies."""
        rng, o = self.demo.rng, case.opened_on
        age = (self.demo.today - o).days
        if case.old:
            fate = "included"
        elif 16 <= age <= 40 and rng.random() < 0.2:
            fate = "stalled"
        else:
            fate = rng.choices(
                ("not_eligible", "township_rejected", "not_included", "included"),
                (12, 8, 10, 70),
            )[0]
        visit = o + timedelta(days=rng.randint(1, 3))
        self._step(case, visit, "household_visit", self._visit_body(case, visit, fate))
        if fate == "not_eligible":
            return
        green = case.sudden and not case.old and rng.random() < 0.5
        reviewed = visit + timedelta(days=rng.randint(0, 2))
        notice_start = reviewed + timedelta(days=1)
        notice_end = notice_start + timedelta(days=rng.randint(4, 6))
        township = visit + timedelta(days=1 if green else rng.randint(1, 4))
        approval = (township if green else max(notice_end, township)) + timedelta(
            days=rng.randint(0, 2)
        )
        if rng.random() < 0.12 and not case.old:
            approval += timedelta(days=rng.randint(4, 10))  # decided late, or overdue
        if DUE_SOON_AGES[0] <= age <= DUE_SOON_AGES[1] and rng.random() < 0.6:
            approval = self.demo.today + timedelta(days=1)  # awaits the county: due soon
        if green:
            self._green_channel(case, visit)
        objections = rng.random() < 0.05
        if fate != "stalled" or rng.random() < 0.5:
            # Recorded once the notice has ended: step dates never lie ahead.
            village: dict[str, Any] = {
                "reviewed_on": reviewed.isoformat(),
                "notice_start": notice_start.isoformat(),
                "notice_end": notice_end.isoformat(),
                "objections": objections,
            }
            if objections:
                village["notes"] = "公示期间有群众提出异议，已入户复核"
            self._step(case, notice_end, "village_review", village)
        if fate == "stalled":
            return
        if fate == "township_rejected":
            # A rejection ends the case: the village review comes first.
            rejected_on = max(township, notice_end)
            body = {
                "reviewed_on": rejected_on.isoformat(),
                "approved": False,
                "notes": "经乡镇审核，家庭收入和支出情况不符合纳入条件",
            }
            self._step(case, rejected_on, "township_review", body)
            return
        approved = {"reviewed_on": township.isoformat(), "approved": True}
        self._step(case, township, "township_review", approved)
        # Waived only after a notice without objections, never before it (green channel).
        waived = not green and not objections and rng.random() < 0.3
        approval_body: dict[str, Any] = {
            "approved_on": approval.isoformat(),
            "comparison_waived": waived,
        }
        if fate == "not_included":
            approval_body |= {"outcome": "not_included", "reason": "风险可控，纳入跟踪关注"}
        self.demo.timeline.at(
            approval, lambda: self._county_approval(case, approval_body), lane=case.lane
        )

    def _visit_body(self, case: Case, day: date, fate: str) -> dict[str, Any]:
        rng, risks = self.demo.rng, set(case.risk_types)
        eligible = fate != "not_eligible"
        income = rng.uniform(0.45, 0.98) if eligible else rng.uniform(1.3, 3.0)
        expenditure = rng.uniform(8000, 60000) if "illness" in risks else rng.uniform(0, 12000)
        body: dict[str, Any] = {
            "visited_on": day.isoformat(),
            "income_per_capita_yuan": round(income * LINE, 2),
            "rigid_expenditure_yuan": round(expenditure, 2),
            "housing_secure": "housing" not in risks,
            "education_secure": "schooling" not in risks,
            "medical_secure": "illness" not in risks,
            "drinking_water_secure": "drinking_water" not in risks,
            "authorisation_signed": True,
            "eligible": eligible,
        }
        if not eligible:
            body["notes"] = "家庭人均纯收入稳定高于监测线，无刚性支出风险"
        return body

    # -- steps ----------------------------------------------------------------

    def _step(self, case: Case, day: date, step: str, body: dict[str, Any]) -> None:
        """Record `step` on `day` as the staff member whose role records it."""

        async def record() -> None:
            region = case.household.region_code
            if step == "township_review":
                who = await self.demo.township_staff(region)
            else:
                who = await self.demo.village_staff(region)
            await self.demo.driver.call("POST", f"{case.path}/steps/{step}", who, body)

        self.demo.timeline.at(day, record, lane=case.lane)

    def _green_channel(self, case: Case, day: date) -> None:
        measure = self.assistance.measure_body("temporary_assistance", day)

        async def green_channel() -> None:
            county = await self.demo.county_staff(case.household.region_code)
            body = {"reason": "突发严重困难，先行帮扶后履行程序"}
            await self.demo.driver.call("POST", f"{case.path}/green_channel", county, body)
            await self.assistance.green_channel_measure(case.case_id, measure, county)

        self.demo.timeline.at(day, green_channel, lane=case.lane)

    async def _county_approval(self, case: Case, body: dict[str, Any]) -> None:
        """县级比对审定: included, or risk_updated for a household monitored meanwhile."""
        driver, household = self.demo.driver, case.household
        if "outcome" not in body:
            async with driver.db.transaction() as session:
                monitored = await session.scalar(
                    _ACTIVE_OBJECT,
                    {"county": household.county_code, "household": household.household_id},
                )
            if monitored:
                body = body | {"outcome": "risk_updated", "risk_types": case.risk_types}
            else:
                body = body | {
                    "outcome": "included",
                    "monitoring_type": _monitoring_type(case),
                    "risk_types": case.risk_types,
                }
        county = await self.demo.county_staff(household.region_code)
        await driver.call("POST", f"{case.path}/steps/county_approval", county, body)
        if body["outcome"] != "included":
            return
        async with driver.db.transaction() as session:
            object_id = await session.scalar(
                _OBJECT_OF_CASE,
                {"county": household.county_code, "case_id": uuid.UUID(case.case_id)},
            )
        included = date.fromisoformat(body["approved_on"])
        self.assistance.included(str(object_id), household, included, old=case.old)


def _monitoring_type(case: Case) -> str:
    if case.household.category == "poverty_alleviated":
        return "unstable_alleviated"
    return "sudden_hardship" if case.sudden else "marginal"
