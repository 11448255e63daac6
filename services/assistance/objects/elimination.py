"""Risk elimination (风险消除) of a monitoring object, its rollback (风险消除回退),
and the flag that keeps a household under the safety net: 整户无劳动能力兜底保障户
(`whole_household_no_labour`), which stays monitored and is never eliminated.

warnex records the county's decision; `unmet_criteria` says which of the
policy's criteria (SPEC §5, services.assistance.objects.criteria) the object
fails on the decision's date, every one of them, so that a refusal names them
all. A natural elimination (自然消除: the risk ended without assistance) waives
the measure criterion only, and keeps its reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.assistance.measures.lifecycle import ObjectRemoved
from services.assistance.objects.criteria import (
    FAILED_CRITERIA_COLUMNS,
    FailedCriteria,
    criteria_params,
    criteria_sql,
    unmet,
)
from services.assistance.objects.schemas import ObjectStatus
from shared.db import fetch_one
from shared.errors import Conflict, FieldError, Unprocessable, invalid
from shared.event_types import (
    MONITORING_OBJECT_FLAGS_CHANGED,
    RISK_ELIMINATED,
)
from shared.events import announce
from shared.object_requests import check_direct, record_direct, roll_back_object
from shared.policy import Policy


@dataclass(frozen=True, slots=True)
class ObjectRow:
    """A monitoring object as assistance reads it (API.md `ObjectOut`, plus
    its county and the elimination it keeps)."""

    object_id: uuid.UUID
    county_code: str
    household_id: str
    region_code: str
    monitoring_type: str
    risk_types: list[str]
    status: ObjectStatus
    included_on: date
    eliminated_on: date | None
    whole_household_no_labour: bool
    development_assistance: bool
    rolled_back_on: date | None
    rollback_reason: str | None
    eliminated_naturally: bool
    elimination_reason: str | None


# The fields of ObjectRow.
OBJECT_COLUMNS = """
    o.object_id, o.county_code, o.household_id, o.region_code, o.monitoring_type,
    o.risk_types, o.status, o.included_on, o.eliminated_on, o.whole_household_no_labour,
    o.development_assistance, o.rolled_back_on, o.rollback_reason, o.eliminated_naturally,
    o.elimination_reason
"""

_OBJECT_BY_ID = f"SELECT {OBJECT_COLUMNS} FROM monitoring_objects o WHERE o.object_id = :id"
# By id alone: an object's URL carries no county, and its id is unique.
_READ = text(_OBJECT_BY_ID)
# Held to the transaction's end: a concurrent decision or rollback waits.
_READ_LOCKED = text(_OBJECT_BY_ID + " FOR UPDATE")

# A repeat of the flag's value changes nothing and returns no row.
_SET_FLAG = text(
    "UPDATE monitoring_objects SET whole_household_no_labour = :flag, updated_at = now()"
    " WHERE county_code = :county_code AND object_id = :object_id"
    " AND whole_household_no_labour <> :flag RETURNING object_id"
)

# The criteria are checked first, under the object's lock.
_ELIMINATE = text(
    "UPDATE monitoring_objects SET status = 'risk_eliminated', eliminated_on = :decided_on,"
    " eliminated_naturally = :natural, elimination_reason = :reason, updated_at = now()"
    " WHERE county_code = :county_code AND object_id = :object_id"
)

# One object's criteria, by the statement the worklist judges every object with.
_CRITERIA_OF_OBJECT = text(
    criteria_sql("o.county_code = :county_code AND o.object_id = :object_id")
    + f"SELECT {FAILED_CRITERIA_COLUMNS} FROM criteria c"
)

_NATURAL_WAIVES = frozenset({"no_measure"})


class NotUnderRisk(Conflict):
    slug, title = "not_risk_not_eliminated", "Only an object whose risk is not eliminated"


async def get_object(
    session: AsyncSession, *, object_id: uuid.UUID, lock: bool = False
) -> ObjectRow | None:
    """The monitoring object with its flags; `lock` holds its row to the transaction's end."""
    statement = _READ_LOCKED if lock else _READ
    return await fetch_one(session, statement, {"id": object_id}, into=ObjectRow)


async def unmet_criteria(
    session: AsyncSession,
    *,
    obj: ObjectRow,
    policy: Policy,
    decided_on: date,
    natural: bool = False,
) -> list[FieldError]:
    """Every elimination criterion the object fails on `decided_on`, each judged
    on its own (services.assistance.objects.criteria); a natural elimination
    (自然消除) waives `no_measure` only."""
    params = criteria_params(policy, decided_on=decided_on) | _key(obj)
    row = await fetch_one(session, _CRITERIA_OF_OBJECT, params, into=FailedCriteria)
    assert row is not None  # the object exists: the caller read it
    return unmet(row, policy, waived=_NATURAL_WAIVES if natural else frozenset())


async def _reread(session: AsyncSession, obj: ObjectRow) -> ObjectRow:
    updated = await get_object(session, object_id=obj.object_id)
    assert updated is not None
    return updated


async def set_flags(
    session: AsyncSession, *, obj: ObjectRow, whole_household_no_labour: bool, actor: str
) -> ObjectRow:
    """Set the object's flag; a change is audited and announced, a repeat changes nothing."""
    if obj.status == "removed":
        raise ObjectRemoved("The monitoring object was removed (清退); its flags stay.")
    changed = await session.scalar(
        _SET_FLAG,
        {"flag": whole_household_no_labour, **_key(obj)},
    )
    if changed is not None:
        details = {"whole_household_no_labour": whole_household_no_labour}
        object_id = str(obj.object_id)
        await announce(
            session,
            type=MONITORING_OBJECT_FLAGS_CHANGED,
            aggregate=("monitoring_object", object_id),
            county_code=obj.county_code,
            actor=actor,
            payload={"object_id": object_id, **details},
            details=details,
        )
    return await _reread(session, obj)


def _key(obj: ObjectRow) -> dict[str, Any]:  # bound parameters
    return {"county_code": obj.county_code, "object_id": obj.object_id}


async def eliminate_risk(
    session: AsyncSession,
    *,
    obj: ObjectRow,
    decided_on: date,
    actor: str,
    policy: Policy,
    today: date,
    natural: bool = False,
    reason: str | None = None,
) -> ObjectRow:
    """Mark the object `risk_eliminated` on `decided_on`; audited, `risk.eliminated`.

    A natural elimination (`natural`, 自然消除) needs a `reason` (422
    `missing_field`), which is kept with the object, and is not refused for
    want of a measure. 422 `invalid_date` for a future date or one before the
    latest rollback; 409 unless the object is `risk_not_eliminated`; 422
    listing every unmet criterion otherwise refused.
    """
    if natural and not (reason and reason.strip()):
        raise invalid("reason", "missing_field", "a natural elimination needs its reason")
    if decided_on > today:
        raise invalid("decided_on", "invalid_date", "decided_on is in the future")
    # Held until the decision commits: a concurrent decision or rollback waits.
    locked = await get_object(session, object_id=obj.object_id, lock=True)
    assert locked is not None
    if locked.status != "risk_not_eliminated":
        raise NotUnderRisk(f"The object is {locked.status}; its risk cannot be eliminated.")
    if locked.rolled_back_on is not None and decided_on < locked.rolled_back_on:
        raise invalid("decided_on", "invalid_date", "decided_on is before the latest rollback")
    errors = await unmet_criteria(
        session, obj=locked, policy=policy, decided_on=decided_on, natural=natural
    )
    if errors:
        raise Unprocessable(
            "The object does not meet every criterion of risk elimination.",
            errors=errors,
            slug="elimination_criteria_unmet",
        )
    await session.execute(
        _ELIMINATE,
        {
            "decided_on": decided_on,
            "natural": natural,
            "reason": reason if natural else None,
            **_key(locked),
        },
    )
    # The reason is free text: it stays in the row, out of the event and the audit.
    details = {
        "household_id": locked.household_id,
        "county_code": locked.county_code,
        "decided_on": decided_on.isoformat(),
        "natural": natural,
    }
    object_id = str(locked.object_id)
    await announce(
        session,
        type=RISK_ELIMINATED,
        aggregate=("monitoring_object", object_id),
        county_code=locked.county_code,
        actor=actor,
        payload={"object_id": object_id, **details},
        details=details,
    )
    return await _reread(session, locked)


async def roll_back_risk(
    session: AsyncSession, *, obj: ObjectRow, reason: str, actor: str, today: date
) -> ObjectRow:
    """风险消除回退 decided by the county alone: allowed while the policy's chain
    for a rollback is `["county"]` (409 `approval_required` otherwise, 409
    `request_pending` while a request is pending); the object returns to
    `risk_not_eliminated` today (`shared.object_requests.roll_back_object`) and
    a one-level approved request records it.
    """
    await check_direct(session, obj=obj, kind="rollback")
    await roll_back_object(session, obj=obj, reason=reason, actor=actor, on=today)
    await record_direct(session, obj=obj, kind="rollback", reason=reason, actor=actor, today=today)
    return await _reread(session, obj)
