"""The four steps of a case (识别认定), its endings, the county decision and the
green channel (绿色通道), SPEC §4.

Order: the visit first; the village review and the township review side by
side after it; the county approval after both. The visit (not eligible) and
the township (rejection) may end a case early. On the green channel the
county may decide before the village review, which must still follow for the
case to be completed. Each step locks its case row first, so that two
concurrent steps cannot both pass the order check.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.steps_schemas import (
    CountyApprovalIn,
    HouseholdVisitIn,
    TownshipReviewIn,
    VillageReviewIn,
)
from shared import audit
from shared.catalog import (
    MONITORING_TYPE_CATEGORY,
    RISK_TYPES,
    SUDDEN_RISK_TYPES,
    SUDDEN_WARNING_TYPES,
)
from shared.clock import local_date
from shared.errors import Conflict, NotFound, invalid
from shared.event_types import (
    CASE_DECIDED,
    CASE_GREEN_CHANNEL,
    CASE_STEP_COMPLETED,
    MONITORING_OBJECT_INCLUDED,
    MONITORING_OBJECT_RISK_UPDATED,
)
from shared.events import publish
from shared.models.columns import Json
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


class AlreadyGreenChannel(Conflict):
    slug, title = "already_green_channel", "The case is already on the green channel"


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
    steps_done: tuple[str, ...]
    risk_types: tuple[str, ...]

    @property
    def decided(self) -> bool:
        return self.state == "decided"

    @property
    def key(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "county_code": self.county_code}


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str  # included | not_included | not_eligible | risk_updated
    decided_on: date
    monitoring_type: str | None = None
    risk_types: list[str] | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Writer:
    """Who writes to which locked case, and when: every step's writes go through it."""

    session: AsyncSession
    case: LockedCase
    actor: str
    now: datetime


# ------------------------------------------------------------------ the steps


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
    case = await _begin(session, case_id, county_code, VISIT, now, visited_on=visit.visited_on)
    writer = _Writer(session, case, actor, now)
    await _record_step(writer, VISIT, visit.visited_on, visit, completed=not visit.eligible)
    if not visit.eligible:
        await _record_decision(writer, Decision("not_eligible", visit.visited_on))


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
    case = await _begin(session, case_id, county_code, VILLAGE, now, **dates)
    _check_notice(review)
    writer = _Writer(session, case, actor, now)
    await _record_step(writer, VILLAGE, review.reviewed_on, review, completed=case.decided)


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
    case = await _begin(session, case_id, county_code, TOWNSHIP, now, reviewed_on=day)
    writer = _Writer(session, case, actor, now)
    await _record_step(writer, TOWNSHIP, day, review, completed=not review.approved)
    if not review.approved:
        await _record_decision(writer, Decision("not_included", day, reason=review.notes))


async def record_county_approval(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    county_code: str,
    approval: CountyApprovalIn,
    actor: str,
    now: datetime,
) -> None:
    """县级比对审定 and the decision, after the visit and both reviews (the
    village review may follow on the green channel). `included` creates the
    monitoring object, included on `approved_on`; `risk_updated` revises the
    household's active one."""
    day = approval.approved_on
    case = await _begin(session, case_id, county_code, COUNTY, now, approved_on=day)
    village = await _step_form(session, case, VILLAGE)
    _check_after_notice(case, approval, village)
    if approval.comparison_waived and (village is None or village["objections"]):
        raise invalid(
            "comparison_waived",
            "waiver_not_allowed",
            "The comparison may be waived only after a public notice without objections",
        )
    active = await _active_object(session, case)
    decision = await _decision(session, case, approval, active)
    writer = _Writer(session, case, actor, now)
    await _record_step(writer, COUNTY, day, approval, completed=VILLAGE in case.steps_done)
    await _record_decision(writer, decision)
    if decision.outcome == "included":
        await _include(writer, decision)
    elif decision.outcome == "risk_updated" and active is not None:
        await _update_risk(writer, active, decision)


async def put_on_green_channel(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    county_code: str,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    """绿色通道 for an open case of a sudden risk: a sudden warning type attached,
    or a sudden risk type named by the manual clue."""
    case = await _lock_case(session, case_id, county_code)
    if case.decided:
        raise CaseDecided("Only an open case can take the green channel.")
    if case.green_channel:
        raise AlreadyGreenChannel()
    if not await _is_sudden(session, case):
        message = "Only a case of a sudden risk (disaster, epidemic, accident, illness) may"
        raise invalid("risk_types", "not_a_sudden_risk", message + " take the green channel")
    await session.execute(
        text(
            "UPDATE cases SET green_channel = true, green_channel_reason = :reason"
            " WHERE case_id = :case_id AND county_code = :county_code"
        ),
        {"reason": reason, **case.key},
    )
    payload = {
        "case_id": str(case.case_id),
        "household_id": case.household_id,
        "county_code": case.county_code,
        "region_code": case.region_code,
    }
    # The reason is free text and may name people: it stays out of the audit details.
    await _announce(_Writer(session, case, actor, now), CASE_GREEN_CHANNEL, payload, {})


# ------------------------------------------------------------------ checks

_LOCK = text(
    "SELECT case_id, county_code, household_id, region_code, opened_on, state,"
    " green_channel, steps_done, risk_types FROM cases"
    " WHERE case_id = :case_id AND county_code = :county_code FOR UPDATE"
)


async def _lock_case(session: AsyncSession, case_id: uuid.UUID, county_code: str) -> LockedCase:
    params = {"case_id": case_id, "county_code": county_code}
    row = (await session.execute(_LOCK, params)).mappings().first()
    if row is None:
        raise NotFound()
    return LockedCase(
        **{**row, "steps_done": tuple(row["steps_done"]), "risk_types": tuple(row["risk_types"])}
    )


async def _begin(
    session: AsyncSession,
    case_id: uuid.UUID,
    county_code: str,
    step: str,
    now: datetime,
    **days: date,
) -> LockedCase:
    """Lock the case; check the step's order and that its dates lie between the
    case's opened_on and today."""
    case = await _lock_case(session, case_id, county_code)
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


def _check_notice(review: VillageReviewIn) -> None:
    if review.notice_end < review.notice_start:
        raise invalid("notice_end", "invalid_date", "notice_end must not be before notice_start")
    minimum = get_policy().identification.min_notice_days
    if (review.notice_end - review.notice_start).days + 1 < minimum:
        message = f"The public notice must run at least {minimum} days, both ends counted"
        raise invalid("notice_end", "notice_too_short", message)


def _check_after_notice(
    case: LockedCase, approval: CountyApprovalIn, village: dict[str, Any] | None
) -> None:
    # Outside the green channel the village review is done (the order check).
    if case.green_channel or village is None:
        return
    if approval.approved_on < date.fromisoformat(village["notice_end"]):
        message = "approved_on must not be before the public notice's end"
        raise invalid("approved_on", "before_notice_end", message)


async def _decision(
    session: AsyncSession,
    case: LockedCase,
    approval: CountyApprovalIn,
    active: dict[str, Any] | None,
) -> Decision:
    """The county's decision, checked against the household and its active object."""
    if approval.outcome == "not_included":
        if not (approval.reason and approval.reason.strip()):
            raise invalid("reason", "missing_field", "A not_included decision needs a reason")
        return Decision("not_included", approval.approved_on, reason=approval.reason)
    risk_types = _risk_types(approval.risk_types)
    monitoring_type = approval.monitoring_type
    if approval.outcome == "included" and active is not None:
        message = "The household already is a monitoring object: decide risk_updated"
        raise invalid("outcome", "already_monitored", message)
    if approval.outcome == "included" and monitoring_type is None:
        raise invalid("monitoring_type", "missing_field", "An inclusion needs its type")
    if approval.outcome == "risk_updated" and active is None:
        message = "risk_updated is only for a household that is a monitoring object"
        raise invalid("outcome", "not_monitored", message)
    if monitoring_type is not None:
        await _check_type_fits(session, case, monitoring_type)
    elif active is not None:
        monitoring_type = active["monitoring_type"]
    return Decision(
        approval.outcome, approval.approved_on, monitoring_type, risk_types, approval.reason
    )


def _risk_types(codes: list[str] | None) -> list[str]:
    if not codes:
        raise invalid("risk_types", "missing_field", "Name at least one risk type")
    if any(code not in RISK_TYPES for code in codes):
        raise invalid("risk_types", "invalid_code", "risk_types must be codes of the catalog")
    return sorted(set(codes))


async def _check_type_fits(session: AsyncSession, case: LockedCase, monitoring_type: str) -> None:
    fits = MONITORING_TYPE_CATEGORY.get(monitoring_type)
    if fits is None:
        raise invalid("monitoring_type", "invalid_code", "monitoring_type is not a catalog code")
    category = await session.scalar(
        text("SELECT category FROM households WHERE county_code = :county AND household_id = :id"),
        {"county": case.county_code, "id": case.household_id},
    )
    if category != fits:
        message = f"{monitoring_type} is only for {fits} households"
        raise invalid("monitoring_type", "monitoring_type_mismatch", message)


async def _is_sudden(session: AsyncSession, case: LockedCase) -> bool:
    if SUDDEN_RISK_TYPES.intersection(case.risk_types):
        return True
    found = await session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM case_warnings WHERE case_id = :case_id"
            " AND county_code = :county_code AND warning_type = ANY(CAST(:types AS text[])))"
        ),
        {**case.key, "types": sorted(SUDDEN_WARNING_TYPES)},
    )
    return bool(found)


async def _step_form(session: AsyncSession, case: LockedCase, step: str) -> dict[str, Any] | None:
    form = await session.scalar(
        text(
            "SELECT form FROM case_steps"
            " WHERE case_id = :case_id AND county_code = :county_code AND step = :step"
        ),
        {**case.key, "step": step},
    )
    return None if form is None else dict(form)


async def _active_object(session: AsyncSession, case: LockedCase) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(
                    "SELECT object_id, county_code, household_id, region_code, monitoring_type"
                    " FROM monitoring_objects WHERE county_code = :county AND household_id = :id"
                    " AND status = 'risk_not_eliminated' FOR UPDATE"
                ),
                {"county": case.county_code, "id": case.household_id},
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


# ------------------------------------------------------------------ writes

_INSERT_STEP = text(
    "INSERT INTO case_steps (case_id, county_code, step, done_on, actor, recorded_at, form)"
    " VALUES (:case_id, :county_code, :step, :done_on, :actor, :recorded_at, :form)"
).bindparams(bindparam("form", type_=Json))
_MARK_DONE = text(
    "UPDATE cases SET steps_done = array_append(steps_done, CAST(:step AS varchar)),"
    " completed = :completed WHERE case_id = :case_id AND county_code = :county_code"
)
_DECIDE = text(
    "UPDATE cases SET state = 'decided', outcome = :outcome, monitoring_type = :monitoring_type,"
    " decision_risk_types = :risk_types, reason = :reason, decided_on = :decided_on"
    " WHERE case_id = :case_id AND county_code = :county_code"
)
_INCLUDE = text(
    "INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,"
    " monitoring_type, risk_types, status, included_on, case_id)"
    " VALUES (:object_id, :county_code, :household_id, :region_code, :monitoring_type,"
    " :risk_types, 'risk_not_eliminated', :included_on, :case_id)"
)
_UPDATE_RISK = text(
    "UPDATE monitoring_objects SET risk_types = :risk_types, monitoring_type = :monitoring_type,"
    " updated_at = :now WHERE object_id = :object_id AND county_code = :county_code"
)


async def _record_step(
    writer: _Writer, step: str, done_on: date, form: BaseModel, *, completed: bool
) -> None:
    """The step's row and form, the case's steps_done and completed flag, an
    event and an audit record."""
    params = {**writer.case.key, "step": step, "done_on": done_on, "actor": writer.actor}
    form_json = form.model_dump(mode="json")
    await writer.session.execute(
        _INSERT_STEP, {**params, "recorded_at": writer.now, "form": form_json}
    )
    await writer.session.execute(
        _MARK_DONE, {**writer.case.key, "step": step, "completed": completed}
    )
    details = {"step": step, "done_on": done_on.isoformat()}
    await _announce(
        writer, CASE_STEP_COMPLETED, {"case_id": str(writer.case.case_id), **details}, details
    )


async def _record_decision(writer: _Writer, decision: Decision) -> None:
    case = writer.case
    await writer.session.execute(
        _DECIDE,
        {
            **case.key,
            "outcome": decision.outcome,
            "monitoring_type": decision.monitoring_type,
            "risk_types": decision.risk_types,
            "reason": decision.reason,
            "decided_on": decision.decided_on,
        },
    )
    payload: dict[str, Any] = {
        "case_id": str(case.case_id),
        "household_id": case.household_id,
        "outcome": decision.outcome,
        "decided_on": decision.decided_on.isoformat(),
    }
    if decision.monitoring_type is not None:
        payload["monitoring_type"] = decision.monitoring_type
    if decision.risk_types is not None:
        payload["risk_types"] = decision.risk_types
    details = {"outcome": decision.outcome, "decided_on": payload["decided_on"]}
    await _announce(writer, CASE_DECIDED, payload, details)


async def _include(writer: _Writer, decision: Decision) -> None:
    case = writer.case
    target = {
        "object_id": uuid.uuid4(),
        "county_code": case.county_code,
        "household_id": case.household_id,
        "region_code": case.region_code,
    }
    await writer.session.execute(
        _INCLUDE,
        {
            **target,
            "monitoring_type": decision.monitoring_type,
            "risk_types": decision.risk_types,
            "included_on": decision.decided_on,
            "case_id": case.case_id,
        },
    )
    dated = {"included_on": decision.decided_on.isoformat()}
    await _announce_object(writer, MONITORING_OBJECT_INCLUDED, target, decision, dated)


async def _update_risk(writer: _Writer, target: dict[str, Any], decision: Decision) -> None:
    await writer.session.execute(
        _UPDATE_RISK,
        {
            "risk_types": decision.risk_types,
            "monitoring_type": decision.monitoring_type,
            "now": writer.now,
            "object_id": target["object_id"],
            "county_code": target["county_code"],
        },
    )
    dated = {"updated_on": decision.decided_on.isoformat()}
    await _announce_object(writer, MONITORING_OBJECT_RISK_UPDATED, target, decision, dated)


async def _announce_object(
    writer: _Writer,
    type: str,
    target: dict[str, Any],
    decision: Decision,
    dated: dict[str, str],
) -> None:
    payload = {
        "object_id": str(target["object_id"]),
        "household_id": target["household_id"],
        "county_code": target["county_code"],
        "region_code": target["region_code"],
        "monitoring_type": decision.monitoring_type,
        "risk_types": decision.risk_types,
        "case_id": str(writer.case.case_id),
        **dated,
    }
    details = {"monitoring_type": decision.monitoring_type, "risk_types": decision.risk_types}
    aggregate = ("monitoring_object", payload["object_id"])
    await _announce(writer, type, payload, details, aggregate=aggregate)


async def _announce(
    writer: _Writer,
    type: str,
    payload: dict[str, Any],
    details: dict[str, Any],
    *,
    aggregate: tuple[str, str] | None = None,
) -> None:
    """An event and an audit record about the case (or `aggregate`)."""
    aggregate = aggregate or ("case", str(writer.case.case_id))
    county_code = writer.case.county_code
    await publish(
        writer.session,
        type=type,
        aggregate=aggregate,
        county_code=county_code,
        actor=writer.actor,
        payload=payload,
    )
    await audit.record(
        writer.session,
        actor=writer.actor,
        action=type,
        target_type=aggregate[0],
        target_id=aggregate[1],
        county_code=county_code,
        details=details,
    )
