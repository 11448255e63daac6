"""The order of a case's steps (SPEC §4) and the checks every step makes.

Order: the visit first; the village review and the township review side by
side after it; the county approval after both. On the green channel the
county may decide before the village review, which must still follow for the
case to be completed. Each step locks its case row first, so that two
concurrent steps cannot both pass the order check.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.steps.schemas import VillageReviewIn
from shared.clock import local_date
from shared.db import fetch_one
from shared.errors import Conflict, NotFound, invalid
from shared.policy import get_policy

VISIT, VILLAGE, TOWNSHIP, COUNTY = (
    "household_visit",
    "village_review",
    "township_review",
    "county_approval",
)
# What each step needs done first; the green channel drops the village review
# from the county approval's needs.
_NEEDS: dict[str, tuple[str, ...]] = {
    VISIT: (),
    VILLAGE: (VISIT,),
    TOWNSHIP: (VISIT,),
    COUNTY: (VISIT, VILLAGE, TOWNSHIP),
}


class StepOutOfOrder(Conflict):
    slug, title = "step_out_of_order", "Earlier steps must be done first"


class StepAlreadyDone(Conflict):
    slug, title = "step_already_done", "The step is already done"


class CaseDecided(Conflict):
    slug, title = "case_decided", "The case is already decided"


@dataclass(frozen=True, slots=True)
class LockedCase:
    """The case columns the steps check, read under a row lock."""

    case_id: uuid.UUID
    county_code: str
    household_id: str
    region_code: str
    opened_on: date
    state: str
    green_channel: bool
    steps_done: list[str]
    risk_types: list[str]

    @property
    def decided(self) -> bool:
        return self.state == "decided"

    @property
    def key(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "county_code": self.county_code}


_LOCK = text(
    "SELECT case_id, county_code, household_id, region_code, opened_on, state,"
    " green_channel, steps_done, risk_types FROM cases"
    " WHERE case_id = :case_id AND county_code = :county_code FOR UPDATE"
)


async def lock_case(session: AsyncSession, case_id: uuid.UUID, county_code: str) -> LockedCase:
    params = {"case_id": case_id, "county_code": county_code}
    case = await fetch_one(session, _LOCK, params, into=LockedCase)
    if case is None:
        raise NotFound()
    return case


async def begin_step(
    session: AsyncSession,
    case_id: uuid.UUID,
    county_code: str,
    step: str,
    now: datetime,
    **days: date,
) -> LockedCase:
    """Lock the case; check the step's order and that its dates lie between the
    case's opened_on and today."""
    case = await lock_case(session, case_id, county_code)
    _check_order(case, step)
    today = local_date(now)
    for field, day in days.items():
        if not case.opened_on <= day <= today:
            message = f"{field} must lie between the case's opened_on and today"
            raise invalid(field, "invalid_date", message)
    return case


def _check_order(case: LockedCase, step: str) -> None:
    if step in case.steps_done:
        raise StepAlreadyDone(f"The {step} step is already done.")
    late_village_review = step == VILLAGE and case.green_channel and COUNTY in case.steps_done
    if case.decided and not late_village_review:
        raise CaseDecided("The case is decided; no further step may be recorded.")
    needs = _NEEDS[step]
    if step == COUNTY and case.green_channel:
        needs = (VISIT, TOWNSHIP)
    missing = [s for s in needs if s not in case.steps_done]
    if missing:
        detail = f"The {step} step needs {', '.join(missing)} first."
        raise StepOutOfOrder(detail, extra={"missing_steps": missing})


def check_notice(review: VillageReviewIn) -> None:
    if review.notice_end < review.notice_start:
        raise invalid("notice_end", "invalid_date", "notice_end must not be before notice_start")
    minimum = get_policy().identification.min_notice_days
    if (review.notice_end - review.notice_start).days + 1 < minimum:
        message = f"The public notice must run at least {minimum} days, both ends counted"
        raise invalid("notice_end", "notice_too_short", message)


# A step's form as recorded: JSON, whose fields are the step's (steps.schemas).
_STEP_FORM = text(
    "SELECT form FROM case_steps"
    " WHERE case_id = :case_id AND county_code = :county_code AND step = :step"
)


async def step_form(session: AsyncSession, case: LockedCase, step: str) -> dict[str, Any] | None:
    """The form `step` recorded for `case` (a JSON object), None if not done."""
    form = await session.scalar(_STEP_FORM, {**case.key, "step": step})
    return None if form is None else dict(form)
