"""The steps of a case before the county decision (识别认定), and the green
channel (绿色通道), SPEC §4.

The visit (not eligible) and the township (rejection) may end a case early.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.steps.decision import Decision, record_decision
from services.identification.steps.order import (
    TOWNSHIP,
    VILLAGE,
    VISIT,
    CaseDecided,
    LockedCase,
    StepOutOfOrder,
    begin_step,
    check_notice,
    lock_case,
)
from services.identification.steps.schemas import (
    HouseholdVisitIn,
    TownshipReviewIn,
    VillageReviewIn,
)
from services.identification.steps.writing import (
    CaseWriteContext,
    announce_for_case,
    record_step,
)
from shared.catalog import SUDDEN_RISK_TYPES, SUDDEN_WARNING_TYPES
from shared.errors import Conflict, invalid
from shared.event_types import CASE_GREEN_CHANNEL


class AlreadyGreenChannel(Conflict):
    slug, title = "already_green_channel", "The case is already on the green channel"


async def record_household_visit(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    county_code: str,
    visit: HouseholdVisitIn,
    actor: str,
    now: datetime,
) -> None:
    """入户核查. A household found not eligible ends the case (`not_eligible`,
    decided on the visit's date, completed)."""
    case = await begin_step(session, case_id, county_code, VISIT, now, visited_on=visit.visited_on)
    writer = CaseWriteContext(session, case, actor, now)
    await record_step(writer, VISIT, visit.visited_on, visit, completed=not visit.eligible)
    if not visit.eligible:
        await record_decision(writer, Decision("not_eligible", visit.visited_on))


async def record_village_review(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    county_code: str,
    review: VillageReviewIn,
    actor: str,
    now: datetime,
) -> None:
    """村级民主评议和公示, after the visit. The notice runs at least the policy's
    minimum days, both ends counted. On a green-channel case already decided,
    this late review completes the case."""
    dates = {
        "reviewed_on": review.reviewed_on,
        "notice_start": review.notice_start,
        "notice_end": review.notice_end,
    }
    case = await begin_step(session, case_id, county_code, VILLAGE, now, **dates)
    check_notice(review)
    writer = CaseWriteContext(session, case, actor, now)
    await record_step(writer, VILLAGE, review.reviewed_on, review, completed=case.decided)


async def record_township_review(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    county_code: str,
    review: TownshipReviewIn,
    actor: str,
    now: datetime,
) -> None:
    """乡镇审核, after the visit. A rejection ends the case (`not_included`, its
    notes as the reason, completed)."""
    day = review.reviewed_on
    case = await begin_step(session, case_id, county_code, TOWNSHIP, now, reviewed_on=day)
    writer = CaseWriteContext(session, case, actor, now)
    await record_step(writer, TOWNSHIP, day, review, completed=not review.approved)
    if not review.approved:
        await record_decision(writer, Decision("not_included", day, reason=review.notes))


# The case is locked and checked first (open, not yet on the channel).
_GREEN_CHANNEL = text(
    "UPDATE cases SET green_channel = true, green_channel_reason = :reason"
    " WHERE case_id = :case_id AND county_code = :county_code"
)

# A sudden warning type among the case's warnings makes the case sudden.
_HAS_SUDDEN_WARNING = text(
    "SELECT EXISTS (SELECT 1 FROM case_warnings WHERE case_id = :case_id"
    " AND county_code = :county_code AND warning_type = ANY(CAST(:types AS text[])))"
)


async def put_on_green_channel(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    county_code: str,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    """绿色通道 for an open case of a sudden risk (a sudden warning type attached,
    or a sudden risk type named by the manual clue) whose household visit is
    recorded (409 `step_out_of_order` before it)."""
    case = await lock_case(session, case_id, county_code)
    if case.decided:
        raise CaseDecided("Only an open case can take the green channel.")
    if case.green_channel:
        raise AlreadyGreenChannel()
    if not await _is_sudden(session, case):
        message = "Only a case of a sudden risk (disaster, epidemic, accident, illness) may"
        raise invalid("risk_types", "not_a_sudden_risk", message + " take the green channel")
    if VISIT not in case.steps_done:
        # SPEC §12 (Lingshou): the green channel starts from a household visit.
        detail = "The green channel needs the household_visit first."
        raise StepOutOfOrder(detail, extra={"missing_steps": [VISIT]})
    await session.execute(_GREEN_CHANNEL, {"reason": reason, **case.key})
    payload = {
        "case_id": str(case.case_id),
        "household_id": case.household_id,
        "county_code": case.county_code,
        "region_code": case.region_code,
    }
    # The reason is free text and may name people: it stays out of the audit details.
    writer = CaseWriteContext(session, case, actor, now)
    await announce_for_case(writer, CASE_GREEN_CHANNEL, payload, {})


async def _is_sudden(session: AsyncSession, case: LockedCase) -> bool:
    if SUDDEN_RISK_TYPES.intersection(case.risk_types):
        return True
    found = await session.scalar(
        _HAS_SUDDEN_WARNING, {**case.key, "types": sorted(SUDDEN_WARNING_TYPES)}
    )
    return bool(found)
