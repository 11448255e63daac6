"""Risk elimination (风险消除) of a monitoring object, its rollback (风险消除回退),
and the flag that keeps a household under the safety net: 整户无劳动能力兜底保障户
(`whole_household_no_labour`), which stays monitored and is never eliminated.

warnex records the county's decision; `unmet_criteria` says which of the
policy's criteria (SPEC §5) the object fails on the decision's date, every one
of them, so that a refusal names them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.assistance.measures.lifecycle import ObjectRemoved
from services.assistance.objects.assessments import assessments_until, is_above_line
from shared.errors import Conflict, FieldError, Unprocessable, invalid
from shared.event_types import (
    MONITORING_OBJECT_FLAGS_CHANGED,
    RISK_ELIMINATED,
)
from shared.events import announce
from shared.object_requests import check_direct, record_direct, roll_back_object
from shared.policy import Policy

OBJECT_COLUMNS = """
    o.object_id, o.county_code, o.household_id, o.region_code, o.monitoring_type,
    o.risk_types, o.status, o.included_on, o.eliminated_on, o.whole_household_no_labour,
    o.development_assistance, o.rolled_back_on, o.rollback_reason
"""

# A measure counts once it has started (in progress) or is done.
_STARTED = frozenset({"in_progress", "completed"})


class NotUnderRisk(Conflict):
    slug, title = "not_risk_not_eliminated", "Only an object whose risk is not eliminated"


async def get_object(
    session: AsyncSession, *, object_id: uuid.UUID, lock: bool = False
) -> dict[str, Any] | None:
    """The monitoring object with its flags; `lock` holds its row to the transaction's end."""
    sql = f"SELECT {OBJECT_COLUMNS} FROM monitoring_objects o WHERE o.object_id = :id"
    result = await session.execute(text(sql + (" FOR UPDATE" if lock else "")), {"id": object_id})
    row = result.mappings().first()
    return None if row is None else dict(row)


def _income_stable(history: Sequence[Mapping[str, Any]], policy: Policy) -> bool:
    """An earlier assessment at least `income_stable_days` before the latest one
    above its year's line, with none below the line in between."""
    latest = history[-1]
    cutoff = latest["assessed_on"] - timedelta(days=policy.assistance.income_stable_days)
    for earlier in reversed(history[:-1]):
        if not is_above_line(earlier, policy):
            return False
        if earlier["assessed_on"] <= cutoff:
            return True
    return False


_THREE_GUARANTEES = ("housing_secure", "education_secure", "medical_secure")


def _assessment_errors(history: Sequence[Mapping[str, Any]], policy: Policy) -> list[FieldError]:
    """What the assessments (oldest first) fail; the latest one is the visit."""
    if not history:
        return [FieldError("assessments", "no_assessment", "no assessment on or before decided_on")]
    latest, errors = history[-1], []
    if not is_above_line(latest, policy):
        errors.append(
            FieldError(
                "income_per_capita_yuan",
                "income_below_line",
                "the latest assessment's income per capita is not above the monitoring line",
            )
        )
    if not _income_stable(history, policy):
        errors.append(
            FieldError(
                "income_per_capita_yuan",
                "income_not_stable",
                f"no assessment at least {policy.assistance.income_stable_days} days before"
                " the latest one above the line, with none below it in between",
            )
        )
    if not all(latest[name] for name in _THREE_GUARANTEES):
        errors.append(
            FieldError(
                "three_guarantees",
                "three_guarantees_not_secure",
                "housing, education or medical care is not secure at the latest assessment",
            )
        )
    if not latest["drinking_water_secure"]:
        errors.append(
            FieldError(
                "drinking_water_secure",
                "drinking_water_not_secure",
                "drinking water is not secure at the latest assessment",
            )
        )
    return errors


def unmet_criteria(
    *,
    obj: Mapping[str, Any],
    assessments: Sequence[Mapping[str, Any]],
    measure_statuses: Iterable[str],
    policy: Policy,
    decided_on: date,
) -> list[FieldError]:
    """Every elimination criterion the object fails on `decided_on`, each judged
    on its own. `assessments` come oldest first; those after `decided_on` are ignored."""
    errors = _assessment_errors([a for a in assessments if a["assessed_on"] <= decided_on], policy)
    if not _STARTED.intersection(measure_statuses):
        errors.append(FieldError("measures", "no_measure", "no measure started or completed"))
    min_days = policy.assistance.min_monitoring_days
    if (decided_on - obj["included_on"]).days < min_days:
        errors.append(
            FieldError(
                "decided_on",
                "monitoring_too_short",
                f"monitored for less than {min_days} days since inclusion",
            )
        )
    if obj["whole_household_no_labour"]:
        errors.append(
            FieldError(
                "whole_household_no_labour",
                "whole_household_no_labour",
                "a household with no labour capacity stays monitored under the safety net",
            )
        )
    return errors


async def _measure_statuses(
    session: AsyncSession, *, obj: Mapping[str, Any], until: date
) -> list[str]:
    # A measure started after the decision's date did not count on that date.
    rows = await session.execute(
        text(
            "SELECT DISTINCT status FROM measures WHERE county_code = :county_code"
            " AND object_id = :object_id AND (started_on IS NULL OR started_on <= :until)"
        ),
        {"county_code": obj["county_code"], "object_id": obj["object_id"], "until": until},
    )
    return list(rows.scalars())


async def _reread(session: AsyncSession, obj: Mapping[str, Any]) -> dict[str, Any]:
    updated = await get_object(session, object_id=obj["object_id"])
    assert updated is not None
    return updated


async def set_flags(
    session: AsyncSession, *, obj: dict[str, Any], whole_household_no_labour: bool, actor: str
) -> dict[str, Any]:
    """Set the object's flag; a change is audited and announced, a repeat changes nothing."""
    if obj["status"] == "removed":
        raise ObjectRemoved("The monitoring object was removed (清退); its flags stay.")
    changed = await session.scalar(
        text(
            "UPDATE monitoring_objects SET whole_household_no_labour = :flag, updated_at = now()"
            " WHERE county_code = :county_code AND object_id = :object_id"
            " AND whole_household_no_labour <> :flag RETURNING object_id"
        ),
        {"flag": whole_household_no_labour, **_key(obj)},
    )
    if changed is not None:
        details = {"whole_household_no_labour": whole_household_no_labour}
        object_id = str(obj["object_id"])
        await announce(
            session,
            type=MONITORING_OBJECT_FLAGS_CHANGED,
            aggregate=("monitoring_object", object_id),
            county_code=obj["county_code"],
            actor=actor,
            payload={"object_id": object_id, **details},
            details=details,
        )
    return await _reread(session, obj)


def _key(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {"county_code": obj["county_code"], "object_id": obj["object_id"]}


async def eliminate_risk(
    session: AsyncSession,
    *,
    obj: dict[str, Any],
    decided_on: date,
    actor: str,
    policy: Policy,
    today: date,
) -> dict[str, Any]:
    """Mark the object `risk_eliminated` on `decided_on`; audited, `risk.eliminated`.

    422 `invalid_date` for a future date or one before the latest rollback;
    409 unless the object is `risk_not_eliminated`; 422 listing every unmet
    criterion otherwise refused.
    """
    if decided_on > today:
        raise invalid("decided_on", "invalid_date", "decided_on is in the future")
    # Held until the decision commits: a concurrent decision or rollback waits.
    locked = await get_object(session, object_id=obj["object_id"], lock=True)
    assert locked is not None
    if locked["status"] != "risk_not_eliminated":
        raise NotUnderRisk(f"The object is {locked['status']}; its risk cannot be eliminated.")
    if locked["rolled_back_on"] is not None and decided_on < locked["rolled_back_on"]:
        raise invalid("decided_on", "invalid_date", "decided_on is before the latest rollback")
    errors = unmet_criteria(
        obj=locked,
        assessments=await assessments_until(session, obj=locked, until=decided_on),
        measure_statuses=await _measure_statuses(session, obj=locked, until=decided_on),
        policy=policy,
        decided_on=decided_on,
    )
    if errors:
        raise Unprocessable(
            "The object does not meet every criterion of risk elimination.",
            errors=errors,
            slug="elimination_criteria_unmet",
        )
    await session.execute(
        text(
            "UPDATE monitoring_objects SET status = 'risk_eliminated', eliminated_on = :decided_on,"
            " updated_at = now() WHERE county_code = :county_code AND object_id = :object_id"
        ),
        {"decided_on": decided_on, **_key(locked)},
    )
    details = {
        "household_id": locked["household_id"],
        "county_code": locked["county_code"],
        "decided_on": decided_on.isoformat(),
    }
    object_id = str(locked["object_id"])
    await announce(
        session,
        type=RISK_ELIMINATED,
        aggregate=("monitoring_object", object_id),
        county_code=locked["county_code"],
        actor=actor,
        payload={"object_id": object_id, **details},
        details=details,
    )
    return await _reread(session, locked)


async def roll_back_risk(
    session: AsyncSession, *, obj: dict[str, Any], reason: str, actor: str, today: date
) -> dict[str, Any]:
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
