"""Requests upward (SPEC §12) as both services write them: the rules every
rollback (风险消除回退) and removal (清退) obeys, the request row with its
events, and the rollback itself.

Identification files and decides requests level by level; the direct
`POST .../removal` (identification) and `POST .../rollback` (assistance) are
allowed only while the policy's chain for their kind is `["county"]`, and then
record a one-level approved request. Both services reach this module through
the shared schema, never through each other.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Protocol

import orjson
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import Conflict
from shared.event_types import REQUEST_DECIDED, REQUEST_FILED, RISK_ROLLED_BACK
from shared.events import announce
from shared.policy import get_policy

KINDS = ("rollback", "removal")
ONE_LEVEL = ["county"]


class RequestPending(Conflict):
    slug, title = "request_pending", "Another request of the object is pending"


class InvalidStatus(Conflict):
    slug, title = "invalid_status", "The object's status does not allow this request"


class ApprovalRequired(Conflict):
    slug, title = "approval_required", "The policy's chain must approve this first"


class NotEliminated(Conflict):
    slug, title = "not_eliminated", "Only an object whose risk was eliminated is rolled back"


class HouseholdMonitoredAgain(Conflict):
    slug, title = (
        "household_already_monitored",
        "The household has another monitoring object whose risk is not eliminated",
    )


class ObjectLike(Protocol):
    """What these rules read of a monitoring object: each service's own typed
    row of it (services never share a module) has at least these fields."""

    @property
    def object_id(self) -> uuid.UUID: ...
    @property
    def county_code(self) -> str: ...
    @property
    def household_id(self) -> str: ...
    @property
    def region_code(self) -> str: ...
    @property
    def status(self) -> str: ...


def chain_of(kind: str) -> list[str]:
    """The policy's levels for `kind`, lowest first."""
    return get_policy().requests.chain(kind)


def check_status(obj: ObjectLike, kind: str) -> None:
    """409 `invalid_status`: any request for a removed object, a rollback of one
    whose risk is not eliminated."""
    if obj.status == "removed":
        raise InvalidStatus("The monitoring object is removed; no request applies to it.")
    if kind == "rollback" and obj.status != "risk_eliminated":
        raise InvalidStatus(f"The object is {obj.status}; only an eliminated one rolls back.")


async def check_none_pending(session: AsyncSession, obj: ObjectLike) -> None:
    """409 `request_pending` while another request of the object is pending."""
    pending = await session.scalar(
        text(
            "SELECT request_id FROM object_requests WHERE county_code = :county_code"
            " AND object_id = :object_id AND status = 'pending'"
        ),
        {"county_code": obj.county_code, "object_id": obj.object_id},
    )
    if pending is not None:
        raise RequestPending(
            "Another request of this object is pending.", extra={"request_id": str(pending)}
        )


def _aggregate(request_id: uuid.UUID) -> tuple[str, str]:
    return ("object_request", str(request_id))


async def insert_request(
    session: AsyncSession,
    *,
    obj: ObjectLike,
    kind: str,
    reason: str,
    evidence: str | None,
    requested_on: date,
    chain: list[dict[str, Any]],
    status: str,
    actor: str,
) -> uuid.UUID:
    """Write the request and announce `request.filed`; 409 `request_pending`
    when a concurrent request of the object won the race."""
    request_id = uuid.uuid4()
    try:
        async with session.begin_nested():
            await session.execute(
                text(
                    "INSERT INTO object_requests (request_id, county_code, object_id,"
                    " household_id, region_code, kind, reason, evidence, requested_on,"
                    " requested_by, status, chain) VALUES (:request_id, :county_code,"
                    " :object_id, :household_id, :region_code, :kind, :reason, :evidence,"
                    " :requested_on, :actor, :status, CAST(:chain AS jsonb))"
                ),
                {
                    "request_id": request_id,
                    "county_code": obj.county_code,
                    "object_id": obj.object_id,
                    "household_id": obj.household_id,
                    "region_code": obj.region_code,
                    "kind": kind,
                    "reason": reason,
                    "evidence": evidence,
                    "requested_on": requested_on,
                    "actor": actor,
                    "status": status,
                    "chain": as_json(chain),
                },
            )
    except IntegrityError:
        # Only the one-pending-request-per-object index can refuse this insert.
        raise RequestPending("Another request of this object is pending.") from None
    payload = {
        **_about(request_id, obj, kind),
        "requested_on": requested_on.isoformat(),
        "levels": [step["level"] for step in chain],
    }
    details = {"kind": kind, "requested_on": payload["requested_on"], "levels": payload["levels"]}
    await announce(
        session,
        type=REQUEST_FILED,
        aggregate=_aggregate(request_id),
        county_code=obj.county_code,
        actor=actor,
        payload=payload,
        details=details,
    )
    return request_id


async def announce_decided(
    session: AsyncSession,
    *,
    request_id: uuid.UUID,
    obj: ObjectLike,
    kind: str,
    level: str,
    decision: str,
    decided_on: date,
    status: str,
    actor: str,
) -> None:
    """`request.decided` for one level (the document number and notes stay in the row)."""
    details = {
        "level": level,
        "decision": decision,
        "decided_on": decided_on.isoformat(),
        "status": status,
    }
    await announce(
        session,
        type=REQUEST_DECIDED,
        aggregate=_aggregate(request_id),
        county_code=obj.county_code,
        actor=actor,
        payload={**_about(request_id, obj, kind), **details},
        details={"kind": kind, **details},
    )


def _about(request_id: uuid.UUID, obj: ObjectLike, kind: str) -> dict[str, Any]:
    return {
        "request_id": str(request_id),
        "object_id": str(obj.object_id),
        "household_id": obj.household_id,
        "county_code": obj.county_code,
        "region_code": obj.region_code,
        "kind": kind,
    }


def as_json(value: Any) -> str:
    """A chain (a list of levels) as the JSON text a `CAST(... AS jsonb)` takes."""
    return orjson.dumps(value).decode()


# ------------------------------------------------------------ direct changes


async def check_direct(session: AsyncSession, *, obj: ObjectLike, kind: str) -> None:
    """Before a direct removal or rollback: 409 `approval_required` unless the
    policy's chain for `kind` is `["county"]`, 409 `request_pending` while a
    request of the object is pending."""
    chain = chain_of(kind)
    if chain != ONE_LEVEL:
        raise ApprovalRequired(
            f"A {kind} goes up the chain {' → '.join(chain)}:"
            " file it with POST .../monitoring_objects/{object_id}/requests.",
            extra={"chain": chain},
        )
    await check_none_pending(session, obj)


async def record_direct(
    session: AsyncSession,
    *,
    obj: ObjectLike,
    kind: str,
    reason: str,
    actor: str,
    today: date,
) -> uuid.UUID:
    """After a direct removal or rollback: the one-level request the county
    approved today, filed and decided (both events)."""
    step = {
        "level": "county",
        "decision": "approved",
        "decided_on": today.isoformat(),
        "document_no": None,
        "notes": None,
        "recorded_by": actor,
    }
    request_id = await insert_request(
        session,
        obj=obj,
        kind=kind,
        reason=reason,
        evidence=None,
        requested_on=today,
        chain=[step],
        status="approved",
        actor=actor,
    )
    await announce_decided(
        session,
        request_id=request_id,
        obj=obj,
        kind=kind,
        level="county",
        decision="approved",
        decided_on=today,
        status="approved",
        actor=actor,
    )
    return request_id


# ------------------------------------------------------------------ rollback


async def roll_back_object(
    session: AsyncSession, *, obj: ObjectLike, reason: str, actor: str, on: date
) -> None:
    """风险消除回退: return an eliminated object to `risk_not_eliminated` on `on`
    with the reason; audited, `risk.rolled_back` (the reason stays in the row).

    409 `not_eliminated` unless the object is `risk_eliminated`, and 409
    `household_already_monitored` when the household has meanwhile another
    object whose risk is not eliminated.
    """
    key = {"county_code": obj.county_code, "object_id": obj.object_id}
    try:
        async with session.begin_nested():
            rolled = await session.scalar(
                text(
                    "UPDATE monitoring_objects SET status = 'risk_not_eliminated',"
                    " eliminated_on = NULL, eliminated_naturally = false,"
                    " elimination_reason = NULL, rolled_back_on = :on, rollback_reason = :reason,"
                    " updated_at = now() WHERE county_code = :county_code"
                    " AND object_id = :object_id AND status = 'risk_eliminated'"
                    " RETURNING object_id"
                ),
                {"on": on, "reason": reason, **key},
            )
    except IntegrityError:
        # Only the one-active-object-per-household index can refuse this update.
        raise HouseholdMonitoredAgain(
            "The household has another object whose risk is not eliminated; follow that one."
        ) from None
    if rolled is None:
        raise NotEliminated(f"The object is {obj.status}; only an eliminated one rolls back.")
    details = {
        "household_id": obj.household_id,
        "county_code": obj.county_code,
        "rolled_back_on": on.isoformat(),
    }
    object_id = str(obj.object_id)
    await announce(
        session,
        type=RISK_ROLLED_BACK,
        aggregate=("monitoring_object", object_id),
        county_code=obj.county_code,
        actor=actor,
        payload={"object_id": object_id, **details},
        details=details,
    )
