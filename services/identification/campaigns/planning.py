"""Screening campaigns (集中排查, SPEC §11): creating a campaign with its
phases, marking phases done and entering figures."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.campaigns.lookup import COMPUTED_KINDS, get_campaign_row
from services.identification.campaigns.rows import CampaignRow
from shared.auth import Principal, ensure_in_scope
from shared.catalog import CAMPAIGN_PHASE_KINDS
from shared.errors import FieldError, Unprocessable, invalid
from shared.event_types import CAMPAIGN_CREATED, CAMPAIGN_UPDATED
from shared.events import announce
from shared.models.columns import Json
from shared.regions import is_well_formed, region_level

# Whether the region is known, and whether any region is loaded at all (before
# the first load of division codes, a well-formed code is taken on trust).
_REGION_KNOWN = text(
    "SELECT EXISTS (SELECT 1 FROM regions WHERE code = :code), EXISTS (SELECT 1 FROM regions)"
)

# A new campaign: its phases as JSON, none done, no figures entered yet.
_INSERT_CAMPAIGN = text(
    """
INSERT INTO campaigns (campaign_id, county_code, region_code, name, year, starts_on,
    phases, reported_figures, created_by, created_at)
VALUES (:campaign_id, :county_code, :region_code, :name, :year, :starts_on,
    :phases, '{}'::jsonb, :actor, :now)
"""
).bindparams(bindparam("phases", type_=Json))

# The whole phases and figures JSON, written back as planning computed them.
_UPDATE_CAMPAIGN = text(
    """
UPDATE campaigns SET phases = :phases, reported_figures = :figures
WHERE campaign_id = :campaign_id AND county_code = :county_code
"""
).bindparams(bindparam("phases", type_=Json), bindparam("figures", type_=Json))

# Not yet in shared.event_types: {"campaign_id", "county_code", "phases_done": [index],
# "reported_figures": {...}}, when county staff mark phases done or enter figures.


class PhasesOutOfOrder(Unprocessable):
    slug, title = "phases_out_of_order", "The phases' due dates are out of order"


async def _check_region(session: AsyncSession, *, region_code: str, principal: Principal) -> None:
    bad = invalid(
        "region_code",
        "invalid_region_code",
        "region_code must be a known county, town or village code",
    )
    if not is_well_formed(region_code) or region_level(region_code) in ("province", "city"):
        raise bad
    ensure_in_scope(principal, region_code)
    known, any_loaded = (await session.execute(_REGION_KNOWN, {"code": region_code})).one()
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
) -> CampaignRow:
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
        _INSERT_CAMPAIGN,
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
    await announce(
        session,
        type=CAMPAIGN_CREATED,
        aggregate=("campaign", str(campaign_id)),
        county_code=county_code,
        actor=principal.actor,
        payload=payload,
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
    campaign: CampaignRow,
    marks: list[tuple[int, date | None]] | None,
    figures: dict[str, int] | None,
    actor: str,
    today: date,
) -> CampaignRow:
    """Mark phases done (by `(index, done_on)`; None clears) and merge entered
    figures. 422 for a missing index, a phase warnex computes, a future date.
    Audited and evented (`campaign.updated`). Returns the updated row."""
    if not marks and not figures:
        return campaign
    phases = _marked_phases(campaign.phases, marks or [], today=today)
    merged = {**campaign.reported_figures, **(figures or {})}
    await session.execute(
        _UPDATE_CAMPAIGN,
        {
            "phases": phases,
            "figures": merged,
            "campaign_id": campaign.campaign_id,
            "county_code": campaign.county_code,
        },
    )
    details = {
        "phases_done": [index for index, _ in marks or []],
        "reported_figures": figures or {},
    }
    await announce(
        session,
        type=CAMPAIGN_UPDATED,
        aggregate=("campaign", str(campaign.campaign_id)),
        county_code=campaign.county_code,
        actor=actor,
        payload={
            "campaign_id": str(campaign.campaign_id),
            "county_code": campaign.county_code,
            **details,
        },
        details=details,
    )
    return dataclasses.replace(campaign, phases=phases, reported_figures=merged)
