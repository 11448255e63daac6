"""The problem ledger (问题台账, SPEC §11): a problem found in a region (and
perhaps at one household, perhaps by a campaign), due for rectification by a
date, then rectified once with the date and what was done.

`overdue` is computed live: open and today past `due_on`. The daily gap scan
(services.assistance.problems.deadlines) records it in `overdue_at` and
announces `problem.overdue` once. Lists come newest found first, in keyset
pages ordered by (found_on DESC, problem_id DESC).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.campaigns.lookup import get_campaign_row, overlaps
from services.identification.problems.schemas import ProblemOut, ProblemStatus
from shared.auth import Principal, Staff, ensure_in_scope, row_in_scope
from shared.catalog import PROBLEM_STATUSES, PROBLEM_TYPES
from shared.db import SessionDep, fetch_one
from shared.errors import Conflict, FieldError, NotFound, Unprocessable, check_code, invalid
from shared.event_types import PROBLEM_RECORDED, PROBLEM_RECTIFIED
from shared.events import announce
from shared.pagination import newest_first_rows
from shared.regions import covers, is_well_formed, region_level, scope_like_pattern


@dataclass(frozen=True, slots=True)
class ProblemRow:
    """A problem of the ledger as stored (API.md `Problem` but `overdue`, which
    `problem_view` computes)."""

    problem_id: uuid.UUID
    county_code: str
    campaign_id: uuid.UUID | None
    region_code: str
    household_id: str | None
    type: str
    description: str
    found_on: date
    due_on: date
    responsible: str
    status: ProblemStatus
    rectified_on: date | None
    action: str | None
    overdue_at: datetime | None
    created_at: datetime


# The fields of ProblemRow.
PROBLEM_COLUMNS = """
    p.problem_id, p.county_code, p.campaign_id, p.region_code, p.household_id, p.type,
    p.description, p.found_on, p.due_on, p.responsible, p.status, p.rectified_on, p.action,
    p.overdue_at, p.created_at
"""


# By id alone: a problem's URL carries no county, and its id is unique.
_PROBLEM_BY_ID = text(f"SELECT {PROBLEM_COLUMNS} FROM problems p WHERE p.problem_id = :id")

# The region known (once any is loaded), and the household's region if registered.
_REFERENCES = text(
    "SELECT EXISTS (SELECT 1 FROM regions WHERE code = :region),"
    " EXISTS (SELECT 1 FROM regions),"
    " (SELECT region_code FROM households"
    "  WHERE county_code = :county AND household_id = :household)"
)

# A new problem is open; its author is kept for the audit trail.
_INSERT = text(
    "INSERT INTO problems (problem_id, county_code, campaign_id, region_code,"
    " household_id, type, description, found_on, due_on, responsible, status,"
    " created_by) VALUES (:problem_id, :county_code, :campaign_id, :region_code,"
    " :household_id, :type, :description, :found_on, :due_on, :responsible, 'open',"
    " :actor)"
)

# Once: a concurrent rectification leaves no open row and returns nothing.
_RECTIFY = text(
    "UPDATE problems SET status = 'rectified', rectified_on = :rectified_on,"
    " action = :action WHERE county_code = :county_code AND problem_id = :problem_id"
    " AND status = 'open' RETURNING problem_id"
)


class AlreadyRectified(Conflict):
    slug, title = "already_rectified", "The problem is already rectified"


def problem_view(row: ProblemRow, *, today: date) -> ProblemOut:
    """The API.md problem: the row and whether it is overdue today."""
    return ProblemOut(**asdict(row), overdue=row.status == "open" and today > row.due_on)


# The payload's fields the audit row keeps.
_AUDITED = ("type", "status", "found_on", "due_on", "rectified_on")


def _payload(problem: ProblemRow) -> dict[str, Any]:
    # The contract of shared/event_types.py; description, responsible and action
    # are free text that may name people, so they stay in the row.
    campaign_id = problem.campaign_id
    return {
        "problem_id": str(problem.problem_id),
        "campaign_id": None if campaign_id is None else str(campaign_id),
        "county_code": problem.county_code,
        "region_code": problem.region_code,
        "household_id": problem.household_id,
        "type": problem.type,
        "found_on": problem.found_on.isoformat(),
        "due_on": problem.due_on.isoformat(),
        "status": problem.status,
        "rectified_on": None if problem.rectified_on is None else problem.rectified_on.isoformat(),
    }


async def get_problem(session: AsyncSession, *, problem_id: uuid.UUID) -> ProblemRow | None:
    return await fetch_one(session, _PROBLEM_BY_ID, {"id": problem_id}, into=ProblemRow)


async def problem_in_scope(
    problem_id: uuid.UUID, session: SessionDep, principal: Staff
) -> ProblemRow:
    """The problem, or 404 if it does not exist or lies outside the caller's scope."""
    return row_in_scope(principal, await get_problem(session, problem_id=problem_id))


ProblemInScope = Annotated[ProblemRow, Depends(problem_in_scope)]


# -- recording -----------------------------------------------------------------------


def _check_fields(
    *, region_code: str, type_: str, found_on: date, due_on: date, today: date
) -> None:
    errors: list[FieldError] = []
    if type_ not in PROBLEM_TYPES:
        errors.append(
            FieldError("type", "invalid_code", "type must be a problem type of the catalog")
        )
    if not is_well_formed(region_code) or region_level(region_code) in ("province", "city"):
        errors.append(
            FieldError(
                "region_code",
                "invalid_region_code",
                "region_code must be a county, town or village",
            )
        )
    if found_on > today:
        errors.append(FieldError("found_on", "date_in_future", "found_on must not be after today"))
    if due_on < found_on:
        errors.append(FieldError("due_on", "invalid_date", "due_on must not be before found_on"))
    if errors:
        raise Unprocessable("The problem breaks a rule.", errors=errors)


async def _check_references(
    session: AsyncSession,
    *,
    region_code: str,
    household_id: str | None,
    campaign_id: uuid.UUID | None,
    principal: Principal,
) -> None:
    """The region known (once any is loaded), the household registered inside the
    region, the campaign existing; all inside the caller's scope (404 if not)."""
    ensure_in_scope(principal, region_code)
    known, any_loaded, household_region = (
        await session.execute(
            _REFERENCES,
            {"region": region_code, "county": region_code[:6], "household": household_id},
        )
    ).one()
    if any_loaded and not known:
        raise invalid("region_code", "invalid_region_code", "region_code is not a known region")
    if household_id is not None and (
        household_region is None
        or not covers(region_code, household_region)
        or not principal.covers(household_region)
    ):
        raise NotFound("No such household in the region.")
    if campaign_id is not None:
        campaign = await get_campaign_row(session, campaign_id=campaign_id)
        if campaign is None or not overlaps(principal, campaign.region_code):
            raise NotFound("No such campaign.")
        if not covers(campaign.region_code, region_code):
            raise invalid(
                "region_code", "outside_campaign", "region_code must lie inside the campaign's"
            )


async def record_problem(
    session: AsyncSession,
    *,
    principal: Principal,
    campaign_id: uuid.UUID | None,
    region_code: str,
    household_id: str | None,
    type_: str,
    description: str,
    found_on: date,
    due_on: date,
    responsible: str,
    today: date,
) -> ProblemOut:
    """Add an open problem to the ledger; audited, `problem.recorded`.

    422 for a type outside the catalog, a malformed or unknown region,
    `found_on` after today or `due_on` before `found_on`, a region outside the
    campaign's; 404 for a region, household or campaign outside the caller's
    scope, a household not registered inside the region, an unknown campaign.
    """
    _check_fields(
        region_code=region_code, type_=type_, found_on=found_on, due_on=due_on, today=today
    )
    await _check_references(
        session,
        region_code=region_code,
        household_id=household_id,
        campaign_id=campaign_id,
        principal=principal,
    )
    problem_id = uuid.uuid4()
    await session.execute(
        _INSERT,
        {
            "problem_id": problem_id,
            "county_code": region_code[:6],
            "campaign_id": campaign_id,
            "region_code": region_code,
            "household_id": household_id,
            "type": type_,
            "description": description,
            "found_on": found_on,
            "due_on": due_on,
            "responsible": responsible,
            "actor": principal.actor,
        },
    )
    problem = await get_problem(session, problem_id=problem_id)
    assert problem is not None
    payload = _payload(problem)
    await announce(
        session,
        type=PROBLEM_RECORDED,
        aggregate=("problem", payload["problem_id"]),
        county_code=problem.county_code,
        actor=principal.actor,
        payload=payload,
        details={key: payload[key] for key in _AUDITED},
    )
    return problem_view(problem, today=today)


async def rectify_problem(
    session: AsyncSession,
    *,
    problem: ProblemRow,
    rectified_on: date,
    action: str,
    actor: str,
    today: date,
) -> ProblemOut:
    """Mark the problem rectified on `rectified_on` (between `found_on` and today)
    with what was done; audited, `problem.rectified`. 409 `already_rectified`
    when it is, also when a concurrent request won the race."""
    if problem.status == "rectified":
        raise AlreadyRectified("The problem is already rectified.")
    if rectified_on > today:
        raise invalid("rectified_on", "date_in_future", "rectified_on must not be after today")
    if rectified_on < problem.found_on:
        raise invalid("rectified_on", "invalid_date", "rectified_on must not be before found_on")
    if not action.strip():
        raise invalid("action", "missing_field", "action must say what was done")
    updated = await session.scalar(
        _RECTIFY,
        {
            "rectified_on": rectified_on,
            "action": action.strip(),
            "county_code": problem.county_code,
            "problem_id": problem.problem_id,
        },
    )
    if updated is None:
        raise AlreadyRectified("The problem is already rectified.")
    rectified = await get_problem(session, problem_id=problem.problem_id)
    assert rectified is not None
    payload = _payload(rectified)
    await announce(
        session,
        type=PROBLEM_RECTIFIED,
        aggregate=("problem", payload["problem_id"]),
        county_code=rectified.county_code,
        actor=actor,
        payload=payload,
        details={key: payload[key] for key in _AUDITED},
    )
    return problem_view(rectified, today=today)


# -- reading -------------------------------------------------------------------------


def problem_filters(
    *,
    region_code: str,
    status: str | None,
    type_: str | None,
    campaign_id: uuid.UUID | None,
    overdue: bool | None,
    today: date,
) -> tuple[list[str], dict[str, Any]]:
    """The list's filters as WHERE clauses on `problems p` and their parameters;
    422 `invalid_code` for a status or type outside its list."""
    check_code("status", status, PROBLEM_STATUSES)
    check_code("type", type_, PROBLEM_TYPES)
    filters = {"status": status, "type": type_, "campaign_id": campaign_id}
    given: dict[str, Any] = {name: value for name, value in filters.items() if value is not None}
    where = ["p.region_code LIKE :scope", *(f"p.{name} = :{name}" for name in given)]
    if overdue is not None:
        late = "(p.status = 'open' AND p.due_on < :today)"
        where.append(late if overdue else f"NOT {late}")
        given["today"] = today
    return where, {"scope": scope_like_pattern(region_code), **given}


async def list_problems(
    session: AsyncSession,
    *,
    region_code: str,
    status: str | None,
    type_: str | None,
    campaign_id: uuid.UUID | None,
    overdue: bool | None,
    today: date,
    cursor: str | None,
    limit: int,
) -> tuple[list[ProblemOut], str | None]:
    """Problems inside `region_code`, newest found first (ties by problem id,
    descending); 422 `invalid_code` for a status or type outside its list."""
    where, params = problem_filters(
        region_code=region_code,
        status=status,
        type_=type_,
        campaign_id=campaign_id,
        overdue=overdue,
        today=today,
    )
    items, next_cursor = await newest_first_rows(
        session,
        into=ProblemRow,
        select=f"SELECT {PROBLEM_COLUMNS} FROM problems p",
        where=where,
        params=params,
        order=(("p.found_on", "found_on", date), ("p.problem_id", "problem_id", uuid.UUID)),
        cursor=cursor,
        limit=limit,
    )
    return [problem_view(item, today=today) for item in items], next_cursor
