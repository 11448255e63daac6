"""Filing a request upward and recording its chain's decisions (SPEC §12).

A request lists the policy's levels for its kind at the time it is filed.
County staff record each level's decision (the higher levels' arrive on
paper, with their 文号) in chain order; a rejection ends the request, and the
last level's approval applies it in the same transaction, dated that day: a
rollback returns the object to `risk_not_eliminated`
(`shared.object_requests.roll_back_object`, as the direct rollback does), a
removal makes it `removed` (`remove_object`, as the direct removal does).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.objects.monitoring_objects import (
    OBJECT_COLUMNS,
    ObjectRow,
    remove_object,
)
from services.identification.requests.lookup import RequestRow, get_request
from shared.db import fetch_one
from shared.errors import Conflict, NotFound, invalid
from shared.object_requests import (
    announce_decided,
    as_json,
    chain_of,
    check_none_pending,
    check_status,
    insert_request,
    roll_back_object,
)

# How a removal's approver reads in the object's row (removal_approved_by).
LEVEL_LABELS = {"county": "县级", "city": "市级", "province": "省级", "national": "国家级"}


class LevelOutOfOrder(Conflict):
    slug, title = "level_out_of_order", "Levels are decided in the chain's order"


class RequestClosed(Conflict):
    slug, title = "request_closed", "The request is already approved or rejected"


# Held to the transaction's end: a concurrent change of the object waits.
_LOCK_OBJECT = text(
    f"SELECT {OBJECT_COLUMNS} FROM monitoring_objects o"
    " WHERE o.county_code = :county_code AND o.object_id = :object_id FOR UPDATE"
)

# A level's decision: the whole chain is rewritten, with the request's status.
_SET_CHAIN = text(
    "UPDATE object_requests SET chain = CAST(:chain AS jsonb), status = :status"
    " WHERE county_code = :county_code AND request_id = :request_id"
)


async def _lock_object(
    session: AsyncSession, *, county_code: str, object_id: uuid.UUID
) -> ObjectRow:
    row = await fetch_one(
        session,
        _LOCK_OBJECT,
        {"county_code": county_code, "object_id": object_id},
        into=ObjectRow,
    )
    if row is None:
        raise NotFound()
    return row


def _not_after_today(field: str, day: date, today: date) -> None:
    if day > today:
        raise invalid(field, "date_in_future", f"{field} must not be in the future")


async def file_request(
    session: AsyncSession,
    *,
    obj: ObjectRow,
    kind: str,
    reason: str,
    evidence: str | None,
    requested_on: date,
    actor: str,
    today: date,
) -> RequestRow:
    """File a pending request with the policy's chain for `kind`; audited,
    `request.filed`. 422 `date_in_future`, `before_elimination` (a rollback
    requested before the object's elimination); 409 `invalid_status` (a removed
    object, or a rollback of one not `risk_eliminated`); 409 `request_pending`."""
    _not_after_today("requested_on", requested_on, today)
    # Held to the transaction's end: a concurrent change of the object waits.
    locked = await _lock_object(session, county_code=obj.county_code, object_id=obj.object_id)
    check_status(locked, kind)
    eliminated_on = locked.eliminated_on  # set: check_status let only an eliminated one by
    if kind == "rollback" and eliminated_on is not None and requested_on < eliminated_on:
        message = "requested_on must not be before the object's eliminated_on"
        raise invalid("requested_on", "before_elimination", message)
    await check_none_pending(session, locked)
    chain = [
        {
            "level": level,
            "decision": None,
            "decided_on": None,
            "document_no": None,
            "notes": None,
            "recorded_by": None,
        }
        for level in chain_of(kind)
    ]
    request_id = await insert_request(
        session,
        obj=locked,
        kind=kind,
        reason=reason,
        evidence=evidence,
        requested_on=requested_on,
        chain=chain,
        status="pending",
        actor=actor,
    )
    filed = await get_request(session, request_id=request_id)
    assert filed is not None
    return filed


async def decide(
    session: AsyncSession,
    *,
    request: RequestRow,
    level: str,
    decision: str,
    decided_on: date,
    document_no: str | None,
    notes: str | None,
    actor: str,
    today: date,
) -> RequestRow:
    """Record `level`'s decision; audited, `request.decided`; the last approval
    applies the request (with the object's own event).

    409 `request_closed` (already approved or rejected), 409
    `level_out_of_order` (not the chain's next level); 422 `date_in_future`,
    `before_request`, `before_previous_level`; the object's own 409s when the
    change no longer applies (`invalid_status`, `household_already_monitored`).
    """
    locked = await get_request(session, request_id=request.request_id, lock=True)
    assert locked is not None
    if locked.status != "pending":
        raise RequestClosed(f"The request is {locked.status}; it takes no further decision.")
    chain: list[dict[str, Any]] = [dict(step) for step in locked.chain]
    index = next(i for i, step in enumerate(chain) if step["decision"] is None)
    expected = chain[index]["level"]
    if level != expected:
        raise LevelOutOfOrder(
            f"The next level to decide is {expected}.", extra={"next_level": expected}
        )
    _check_dates(locked, chain, index, decided_on, today)
    chain[index] = {
        "level": level,
        "decision": decision,
        "decided_on": decided_on.isoformat(),
        "document_no": document_no,
        "notes": notes,
        "recorded_by": actor,
    }
    last = index == len(chain) - 1
    status = "rejected" if decision == "rejected" else ("approved" if last else "pending")
    await session.execute(
        _SET_CHAIN,
        {
            "chain": as_json(chain),
            "status": status,
            "county_code": locked.county_code,
            "request_id": locked.request_id,
        },
    )
    obj = await _lock_object(session, county_code=locked.county_code, object_id=locked.object_id)
    if status == "approved":
        check_status(obj, locked.kind)
    await announce_decided(
        session,
        request_id=locked.request_id,
        obj=obj,
        kind=locked.kind,
        level=level,
        decision=decision,
        decided_on=decided_on,
        status=status,
        actor=actor,
    )
    if status == "approved":
        await _apply(session, request=locked, obj=obj, step=chain[index], actor=actor)
    decided = await get_request(session, request_id=locked.request_id)
    assert decided is not None
    return decided


def _check_dates(
    request: RequestRow, chain: list[dict[str, Any]], index: int, day: date, today: date
) -> None:
    _not_after_today("decided_on", day, today)
    if day < request.requested_on:
        raise invalid("decided_on", "before_request", "decided_on must not be before requested_on")
    if index and day < date.fromisoformat(chain[index - 1]["decided_on"]):
        message = "decided_on must not be before the decision of the level below"
        raise invalid("decided_on", "before_previous_level", message)


async def _apply(
    session: AsyncSession,
    *,
    request: RequestRow,
    obj: ObjectRow,
    step: dict[str, Any],
    actor: str,
) -> None:
    day = date.fromisoformat(step["decided_on"])
    if request.kind == "rollback":
        await roll_back_object(session, obj=obj, reason=request.reason, actor=actor, on=day)
        return
    approver = f"{LEVEL_LABELS[step['level']]} {step['document_no'] or ''}".strip()
    await remove_object(
        session,
        obj=obj,
        reason=request.reason,
        approved_by=approver[:100],
        actor=actor,
        today=day,
    )
