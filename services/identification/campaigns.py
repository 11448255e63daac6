"""Screening campaigns (集中排查, SPEC §11): creating, reading and updating a
campaign, and whether its phases are done or late.

A campaign belongs to a county, town or village and is seen by staff whose
scope overlaps its region (a county's campaign by the staff of its villages,
a town's by the county's staff). A phase of a kind warnex can check is done
when its work is: `household_screening` once every registered household of
the region has a screening, `cross_screening` / `spot_check` once a sample of
that kind has a checker's record for every household in it. Any other phase
is marked done by county staff. A phase is late when today is past its due
date and it is not done.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.auth import Principal, Staff, ensure_in_scope
from shared.catalog import CAMPAIGN_PHASE_KINDS
from shared.db import SessionDep
from shared.errors import FieldError, NotFound, Unprocessable, invalid
from shared.event_types import CAMPAIGN_CREATED, CAMPAIGN_UPDATED
from shared.events import publish
from shared.models.columns import Json
from shared.pagination import newest_first
from shared.regions import LEVEL_DIGITS, covers, is_well_formed, region_level, region_prefix
from shared.settings import get_settings

# Not yet in shared.event_types: {"campaign_id", "county_code", "phases_done": [index],
# "reported_figures": {...}}, when county staff mark phases done or enter figures.

# Phases whose completion warnex computes; the others are marked done by hand.
COMPUTED_KINDS = {"household_screening": None, "cross_screening": "cross", "spot_check": "spot"}

CAMPAIGN_COLUMNS = """
    c.campaign_id, c.county_code, c.region_code, c.name, c.year, c.starts_on, c.phases,
    c.reported_figures, c.created_by, c.created_at
"""

# Per campaign: whether every registered household of its region is screened
# (only asked where a household_screening phase needs it), the latest screening
# date, and the day the first cross / spot sample was fully checked.
_PROGRESS = text(
    """
SELECT t.campaign_id,
    -- LATERAL ... LIMIT 1: a probe of the screenings index per household,
    -- whatever the planner thinks of tables an upload has just grown.
    CASE WHEN t.check_households THEN NOT EXISTS (
        SELECT 1 FROM households h
        LEFT JOIN LATERAL (
            SELECT true AS screened FROM screenings s
            WHERE s.campaign_id = t.campaign_id AND s.county_code = h.county_code
              AND s.household_id = h.household_id
            LIMIT 1
        ) s ON true
        WHERE h.county_code = t.county_code AND h.region_code LIKE t.pattern
          AND s.screened IS NULL)
    END AS all_screened,
    (SELECT max(s.screened_on) FROM screenings s
     WHERE s.campaign_id = t.campaign_id AND s.county_code = t.county_code) AS last_screened_on,
    (SELECT jsonb_object_agg(k.kind, k.done_on) FROM (
        SELECT x.kind, min(x.done_on) AS done_on FROM (
            SELECT sc.kind, max((hh.checked_at AT TIME ZONE :zone)::date) AS done_on
            FROM spot_checks sc
            JOIN spot_check_households hh
              ON hh.spot_check_id = sc.spot_check_id AND hh.county_code = sc.county_code
            WHERE sc.campaign_id = t.campaign_id AND sc.county_code = t.county_code
            GROUP BY sc.spot_check_id, sc.kind
            HAVING bool_and(hh.checker_record IS NOT NULL)
        ) x GROUP BY x.kind
    ) k) AS samples_done_on
FROM unnest(CAST(:campaign_ids AS uuid[]), CAST(:counties AS text[]),
            CAST(:patterns AS text[]), CAST(:check_households AS boolean[]))
     AS t(campaign_id, county_code, pattern, check_households)
"""
)


class PhasesOutOfOrder(Unprocessable):
    slug, title = "phases_out_of_order", "The phases' due dates are out of order"


@dataclass(frozen=True, slots=True)
class Progress:
    """What warnex knows of a campaign's checked phases."""

    all_screened: bool | None = None
    last_screened_on: date | None = None
    samples_done_on: dict[str, date] | None = None


# -- reading -------------------------------------------------------------------


async def get_campaign_row(
    session: AsyncSession, *, campaign_id: uuid.UUID
) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns c WHERE c.campaign_id = :id"),
                {"id": campaign_id},
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def overlaps(principal: Principal, region_code: str) -> bool:
    """Whether a campaign of `region_code` concerns the principal: one of the
    two regions lies inside the other."""
    scope = principal.region_code
    if scope is None or not is_well_formed(scope):
        return False
    return principal.covers(region_code) or covers(region_code, scope)


async def campaign_in_scope(
    campaign_id: uuid.UUID, session: SessionDep, principal: Staff
) -> dict[str, Any]:
    """The campaign row, or 404 if it does not exist or does not concern the caller."""
    row = await get_campaign_row(session, campaign_id=campaign_id)
    if row is None or not overlaps(principal, row["region_code"]):
        raise NotFound()
    return row


CampaignInScope = Annotated[dict[str, Any], Depends(campaign_in_scope)]


def _pattern(region_code: str) -> str:
    return region_prefix(region_code) + "%"


async def campaign_progress(
    session: AsyncSession, rows: list[dict[str, Any]]
) -> dict[uuid.UUID, Progress]:
    """The progress of every campaign of `rows`, in one statement."""
    if not rows:
        return {}
    result = await session.execute(
        _PROGRESS,
        {
            "campaign_ids": [r["campaign_id"] for r in rows],
            "counties": [r["county_code"] for r in rows],
            "patterns": [_pattern(r["region_code"]) for r in rows],
            "check_households": [
                any(p.get("kind") == "household_screening" for p in r["phases"]) for r in rows
            ],
            "zone": get_settings().timezone,
        },
    )
    progress: dict[uuid.UUID, Progress] = {}
    for row in result.mappings():
        samples = {k: date.fromisoformat(v) for k, v in (row["samples_done_on"] or {}).items()}
        progress[row["campaign_id"]] = Progress(
            row["all_screened"], row["last_screened_on"], samples
        )
    return progress


def _phase_done_on(phase: dict[str, Any], progress: Progress) -> tuple[bool, date | None]:
    kind = phase.get("kind")
    if kind == "household_screening":
        return bool(progress.all_screened), (
            progress.last_screened_on if progress.all_screened else None
        )
    if kind in COMPUTED_KINDS:
        sample_kind = COMPUTED_KINDS[kind]
        done_on = (progress.samples_done_on or {}).get(sample_kind or "")
        return done_on is not None, done_on
    raw = phase.get("done_on")
    done_on = date.fromisoformat(raw) if raw else None
    return done_on is not None, done_on


def campaign_view(row: dict[str, Any], progress: Progress, *, today: date) -> dict[str, Any]:
    """The API.md campaign, its phases' completion and lateness as of `today`."""
    phases = []
    for phase in row["phases"]:
        due_on = date.fromisoformat(phase["due_on"])
        done, done_on = _phase_done_on(phase, progress)
        phases.append(
            {
                "name": phase["name"],
                "kind": phase.get("kind"),
                "due_on": due_on,
                "done_on": done_on,
                "late": today > due_on and not done,
            }
        )
    return {
        "campaign_id": row["campaign_id"],
        "name": row["name"],
        "region_code": row["region_code"],
        "year": row["year"],
        "starts_on": row["starts_on"],
        "ends_on": phases[-1]["due_on"],
        "phases": phases,
        "reported_figures": row["reported_figures"],
        "late": any(p["late"] for p in phases),
        "created_at": row["created_at"],
    }


async def view_campaign(
    session: AsyncSession, row: dict[str, Any], *, today: date
) -> dict[str, Any]:
    progress = await campaign_progress(session, [row])
    return campaign_view(row, progress[row["campaign_id"]], today=today)


def _ancestors(scope: str) -> list[str]:
    """The county, town and village codes that contain `scope` (campaign regions)."""
    level = region_level(scope)
    own = LEVEL_DIGITS[level]
    return [
        scope[:digits].ljust(12, "0")
        for digits in (LEVEL_DIGITS["county"], LEVEL_DIGITS["town"], LEVEL_DIGITS["village"])
        if digits <= own
    ]


async def list_campaigns(
    session: AsyncSession,
    *,
    principal: Principal,
    today: date,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """Campaigns whose region overlaps the caller's scope, newest first."""
    scope = principal.region_code
    if scope is None:
        raise NotFound()
    rows, next_cursor = await newest_first(
        session,
        select=f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns c",
        where=["(c.region_code LIKE :scope OR c.region_code = ANY(CAST(:ancestors AS text[])))"],
        params={"scope": _pattern(scope), "ancestors": _ancestors(scope)},
        order=(
            ("c.year", "year", int),
            ("c.created_at", "created_at", datetime),
            ("c.campaign_id", "campaign_id", uuid.UUID),
        ),
        cursor=cursor,
        limit=limit,
    )
    progress = await campaign_progress(session, rows)
    return [campaign_view(r, progress[r["campaign_id"]], today=today) for r in rows], next_cursor


# -- writing -------------------------------------------------------------------


async def _check_region(session: AsyncSession, *, region_code: str, principal: Principal) -> None:
    bad = invalid(
        "region_code",
        "invalid_region_code",
        "region_code must be a known county, town or village code",
    )
    if not is_well_formed(region_code) or region_level(region_code) in ("province", "city"):
        raise bad
    ensure_in_scope(principal, region_code)
    known, any_loaded = (
        await session.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM regions WHERE code = :code),"
                " EXISTS (SELECT 1 FROM regions)"
            ),
            {"code": region_code},
        )
    ).one()
    if any_loaded and not known:
        raise bad


def _check_phases(phases: list[dict[str, Any]], *, starts_on: date) -> None:
    if not phases:
        raise invalid("phases", "missing_field", "a campaign needs at least one phase")
    errors = [
        FieldError(f"phases.{i}.kind", "invalid_code", "kind must be a phase kind of the catalog")
        for i, phase in enumerate(phases)
        if phase["kind"] is not None and phase["kind"] not in CAMPAIGN_PHASE_KINDS
    ]
    if errors:
        raise Unprocessable("Some phase kinds are unknown.", errors=errors)
    previous = starts_on
    for i, phase in enumerate(phases):
        if phase["due_on"] < previous:
            raise PhasesOutOfOrder(
                "Each phase is due on or after the one before it and the campaign's start.",
                errors=[
                    FieldError(
                        f"phases.{i}.due_on",
                        "phases_out_of_order",
                        "due_on must not be before the previous phase's or starts_on",
                    )
                ],
            )
        previous = phase["due_on"]


async def create_campaign(
    session: AsyncSession,
    *,
    principal: Principal,
    name: str,
    region_code: str,
    year: int,
    starts_on: date | None,
    phases: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """Create a campaign of a region inside the caller's scope (404 outside it;
    422 for an unknown region, no phase, an unknown kind or due dates out of
    order). Audited and evented (`campaign.created`). Returns the row."""
    await _check_region(session, region_code=region_code, principal=principal)
    starts_on = starts_on or date(year, 1, 1)
    if starts_on.year != year:
        raise invalid("starts_on", "invalid_date", f"starts_on must lie in {year}")
    _check_phases(phases, starts_on=starts_on)
    stored = [
        {"name": p["name"], "kind": p["kind"], "due_on": p["due_on"].isoformat(), "done_on": None}
        for p in phases
    ]
    campaign_id = uuid.uuid4()
    county_code = region_code[:6]
    await session.execute(
        text(
            "INSERT INTO campaigns (campaign_id, county_code, region_code, name, year, starts_on,"
            " phases, reported_figures, created_by, created_at)"
            " VALUES (:campaign_id, :county_code, :region_code, :name, :year, :starts_on,"
            " :phases, '{}'::jsonb, :actor, :now)"
        ).bindparams(bindparam("phases", type_=Json)),
        {
            "campaign_id": campaign_id,
            "county_code": county_code,
            "region_code": region_code,
            "name": name,
            "year": year,
            "starts_on": starts_on,
            "phases": stored,
            "actor": principal.actor,
            "now": now,
        },
    )
    payload = {
        "campaign_id": str(campaign_id),
        "county_code": county_code,
        "region_code": region_code,
        "year": year,
    }
    await publish(
        session,
        type=CAMPAIGN_CREATED,
        aggregate=("campaign", str(campaign_id)),
        county_code=county_code,
        actor=principal.actor,
        payload=payload,
    )
    await audit.record(
        session,
        actor=principal.actor,
        action=CAMPAIGN_CREATED,
        target_type="campaign",
        target_id=str(campaign_id),
        county_code=county_code,
        details={"region_code": region_code, "year": year, "phases": len(stored)},
    )
    row = await get_campaign_row(session, campaign_id=campaign_id)
    assert row is not None
    return row


def _marked_phases(
    phases: list[dict[str, Any]], marks: list[tuple[int, date | None]], *, today: date
) -> list[dict[str, Any]]:
    errors: list[FieldError] = []
    seen: set[int] = set()
    updated = [dict(p) for p in phases]
    for i, (index, done_on) in enumerate(marks):
        field = f"phases.{i}"
        if index >= len(phases):
            errors.append(FieldError(f"{field}.index", "invalid_value", "no phase at this index"))
        elif index in seen:
            errors.append(
                FieldError(f"{field}.index", "invalid_value", "the phase is listed twice")
            )
        elif phases[index].get("kind") in COMPUTED_KINDS:
            errors.append(
                FieldError(
                    f"{field}.index",
                    "phase_computed",
                    "warnex tells when this kind of phase is done; it cannot be marked",
                )
            )
        elif done_on is not None and done_on > today:
            errors.append(
                FieldError(f"{field}.done_on", "date_in_future", "done_on must not be after today")
            )
        else:
            updated[index]["done_on"] = None if done_on is None else done_on.isoformat()
        seen.add(index)
    if errors:
        raise Unprocessable("Some phases cannot be marked.", errors=errors)
    return updated


async def update_campaign(
    session: AsyncSession,
    *,
    campaign: dict[str, Any],
    marks: list[tuple[int, date | None]] | None,
    figures: dict[str, int] | None,
    actor: str,
    today: date,
) -> dict[str, Any]:
    """Mark phases done (by `(index, done_on)`; None clears) and merge entered
    figures. 422 for a missing index, a phase warnex computes, a future date.
    Audited and evented (`campaign.updated`). Returns the updated row."""
    if not marks and not figures:
        return campaign
    phases = _marked_phases(campaign["phases"], marks or [], today=today)
    merged = {**campaign["reported_figures"], **(figures or {})}
    await session.execute(
        text(
            "UPDATE campaigns SET phases = :phases, reported_figures = :figures"
            " WHERE campaign_id = :campaign_id AND county_code = :county_code"
        ).bindparams(bindparam("phases", type_=Json), bindparam("figures", type_=Json)),
        {
            "phases": phases,
            "figures": merged,
            "campaign_id": campaign["campaign_id"],
            "county_code": campaign["county_code"],
        },
    )
    details = {
        "phases_done": [index for index, _ in marks or []],
        "reported_figures": figures or {},
    }
    await publish(
        session,
        type=CAMPAIGN_UPDATED,
        aggregate=("campaign", str(campaign["campaign_id"])),
        county_code=campaign["county_code"],
        actor=actor,
        payload={
            "campaign_id": str(campaign["campaign_id"]),
            "county_code": campaign["county_code"],
            **details,
        },
    )
    await audit.record(
        session,
        actor=actor,
        action=CAMPAIGN_UPDATED,
        target_type="campaign",
        target_id=str(campaign["campaign_id"]),
        county_code=campaign["county_code"],
        details=details,
    )
    return {**campaign, "phases": phases, "reported_figures": merged}
