"""The county decision (县级比对审定) and what follows from it: the case
decided, a household included as a monitoring object (纳入监测) or its
active object's risk revised, SPEC §4."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.steps.order import (
    COUNTY,
    VILLAGE,
    VISIT,
    LockedCase,
    begin_step,
    step_form,
)
from services.identification.steps.schemas import CountyApprovalIn
from services.identification.steps.writing import (
    CaseWriteContext,
    announce_for_case,
    record_step,
)
from shared.catalog import MONITORING_TYPE_CATEGORY, RISK_TYPES
from shared.db import fetch_one
from shared.errors import invalid
from shared.event_types import (
    CASE_DECIDED,
    MONITORING_OBJECT_INCLUDED,
    MONITORING_OBJECT_RISK_UPDATED,
)


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str  # included | not_included | not_eligible | risk_updated
    decided_on: date
    monitoring_type: str | None = None
    risk_types: list[str] | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectTarget:
    """The monitoring object a decision includes or revises: the household's
    active one (read under lock), or the one an inclusion creates."""

    object_id: uuid.UUID
    county_code: str
    household_id: str
    region_code: str
    monitoring_type: str | None


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
    case = await begin_step(session, case_id, county_code, COUNTY, now, approved_on=day)
    village = await step_form(session, case, VILLAGE)
    _check_after_notice(case, approval, village)
    if approval.comparison_waived and (village is None or village["objections"]):
        raise invalid(
            "comparison_waived",
            "waiver_not_allowed",
            "The comparison may be waived only after a public notice without objections",
        )
    if approval.outcome in ("included", "risk_updated"):
        await _check_authorisation(session, case)
    active = await _active_object(session, case)
    decision = await _decision(session, case, approval, active)
    writer = CaseWriteContext(session, case, actor, now)
    await record_step(writer, COUNTY, day, approval, completed=VILLAGE in case.steps_done)
    await record_decision(writer, decision)
    if decision.outcome == "included":
        await _include(writer, decision)
    elif decision.outcome == "risk_updated" and active is not None:
        await _update_risk(writer, active, decision)


# ------------------------------------------------------------------ checks


def _check_after_notice(
    case: LockedCase, approval: CountyApprovalIn, village: dict[str, Any] | None
) -> None:
    # Outside the green channel the village review is done (the order check).
    if case.green_channel or village is None:
        return
    if approval.approved_on < date.fromisoformat(village["notice_end"]):
        message = "approved_on must not be before the public notice's end"
        raise invalid("approved_on", "before_notice_end", message)


async def _check_authorisation(session: AsyncSession, case: LockedCase) -> None:
    """农户授权 (SPEC §12, Meixian): a decision that includes the household or
    updates its risk needs the written authorisation the visit recorded."""
    visit = await step_form(session, case, VISIT)
    if not (visit and visit.get("authorisation_signed")):
        message = "The household visit recorded no signed authorisation (农户授权)"
        raise invalid("authorisation_signed", "authorisation_missing", message)


async def _decision(
    session: AsyncSession,
    case: LockedCase,
    approval: CountyApprovalIn,
    active: ObjectTarget | None,
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
        monitoring_type = active.monitoring_type
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
        _HOUSEHOLD_CATEGORY,
        {"county": case.county_code, "id": case.household_id},
    )
    if category != fits:
        message = f"{monitoring_type} is only for {fits} households"
        raise invalid("monitoring_type", "monitoring_type_mismatch", message)


# The household's active object (at most one, a partial unique index), held
# to the transaction's end so that a concurrent change waits for the decision.
_ACTIVE_OBJECT = text(
    "SELECT object_id, county_code, household_id, region_code, monitoring_type"
    " FROM monitoring_objects WHERE county_code = :county AND household_id = :id"
    " AND status = 'risk_not_eliminated' FOR UPDATE"
)

# A monitoring type fits one category of household.
_HOUSEHOLD_CATEGORY = text(
    "SELECT category FROM households WHERE county_code = :county AND household_id = :id"
)


async def _active_object(session: AsyncSession, case: LockedCase) -> ObjectTarget | None:
    key = {"county": case.county_code, "id": case.household_id}
    return await fetch_one(session, _ACTIVE_OBJECT, key, into=ObjectTarget)


# ------------------------------------------------------------------ writes

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


async def record_decision(writer: CaseWriteContext, decision: Decision) -> None:
    """The case decided, with its event and audit record."""
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
    await announce_for_case(writer, CASE_DECIDED, payload, details)


async def _include(writer: CaseWriteContext, decision: Decision) -> None:
    case = writer.case
    target = ObjectTarget(
        object_id=uuid.uuid4(),
        county_code=case.county_code,
        household_id=case.household_id,
        region_code=case.region_code,
        monitoring_type=decision.monitoring_type,
    )
    await writer.session.execute(
        _INCLUDE,
        {
            **asdict(target),
            "risk_types": decision.risk_types,
            "included_on": decision.decided_on,
            "case_id": case.case_id,
        },
    )
    dated = {"included_on": decision.decided_on.isoformat()}
    await _record_object_event(writer, MONITORING_OBJECT_INCLUDED, target, decision, dated)


async def _update_risk(writer: CaseWriteContext, target: ObjectTarget, decision: Decision) -> None:
    await writer.session.execute(
        _UPDATE_RISK,
        {
            "risk_types": decision.risk_types,
            "monitoring_type": decision.monitoring_type,
            "now": writer.now,
            "object_id": target.object_id,
            "county_code": target.county_code,
        },
    )
    dated = {"updated_on": decision.decided_on.isoformat()}
    await _record_object_event(writer, MONITORING_OBJECT_RISK_UPDATED, target, decision, dated)


async def _record_object_event(
    writer: CaseWriteContext,
    type: str,
    target: ObjectTarget,
    decision: Decision,
    dated: dict[str, str],
) -> None:
    payload = {
        "object_id": str(target.object_id),
        "household_id": target.household_id,
        "county_code": target.county_code,
        "region_code": target.region_code,
        "monitoring_type": decision.monitoring_type,
        "risk_types": decision.risk_types,
        "case_id": str(writer.case.case_id),
        **dated,
    }
    details = {"monitoring_type": decision.monitoring_type, "risk_types": decision.risk_types}
    aggregate = ("monitoring_object", str(target.object_id))
    await announce_for_case(writer, type, payload, details, aggregate=aggregate)
