"""Screening campaigns (集中排查, SPEC §11): reading a campaign, and whether
its phases are done or late (planning.py creates and updates them).

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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.campaigns.rows import CampaignRow, CampaignView, PhaseView
from shared.auth import Principal, Staff
from shared.db import SessionDep, fetch_one
from shared.errors import NotFound
from shared.pagination import newest_first_rows
from shared.regions import LEVEL_DIGITS, covers, is_well_formed, region_level, region_prefix
from shared.settings import get_settings

# Phases whose completion warnex computes; the others are marked done by hand.
COMPUTED_KINDS = {"household_screening": None, "cross_screening": "cross", "spot_check": "spot"}

# The fields of CampaignRow.
CAMPAIGN_COLUMNS = """
    c.campaign_id, c.county_code, c.region_code, c.name, c.year, c.starts_on, c.phases,
    c.reported_figures, c.created_by, c.created_at
"""

# By id alone: a campaign's URL carries no county, and its id is unique.
_CAMPAIGN_BY_ID = text(f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns c WHERE c.campaign_id = :id")

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


@dataclass(frozen=True, slots=True)
class Progress:
    """What warnex knows of a campaign's checked phases."""

    all_screened: bool | None = None
    last_screened_on: date | None = None
    samples_done_on: dict[str, date] | None = None


# -- reading -------------------------------------------------------------------


async def get_campaign_row(session: AsyncSession, *, campaign_id: uuid.UUID) -> CampaignRow | None:
    return await fetch_one(session, _CAMPAIGN_BY_ID, {"id": campaign_id}, into=CampaignRow)


def overlaps(principal: Principal, region_code: str) -> bool:
    """Whether a campaign of `region_code` concerns the principal: one of the
    two regions lies inside the other."""
    scope = principal.region_code
    if scope is None or not is_well_formed(scope):
        return False
    return principal.covers(region_code) or covers(region_code, scope)


async def campaign_in_scope(
    campaign_id: uuid.UUID, session: SessionDep, principal: Staff
) -> CampaignRow:
    """The campaign row, or 404 if it does not exist or does not concern the caller."""
    row = await get_campaign_row(session, campaign_id=campaign_id)
    if row is None or not overlaps(principal, row.region_code):
        raise NotFound()
    return row


CampaignInScope = Annotated[CampaignRow, Depends(campaign_in_scope)]


def _pattern(region_code: str) -> str:
    return region_prefix(region_code) + "%"


async def campaign_progress(
    session: AsyncSession, rows: Sequence[CampaignRow]
) -> dict[uuid.UUID, Progress]:
    """The progress of every campaign of `rows`, in one statement."""
    if not rows:
        return {}
    result = await session.execute(
        _PROGRESS,
        {
            "campaign_ids": [r.campaign_id for r in rows],
            "counties": [r.county_code for r in rows],
            "patterns": [_pattern(r.region_code) for r in rows],
            "check_households": [
                any(p.get("kind") == "household_screening" for p in r.phases) for r in rows
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


def campaign_view(row: CampaignRow, progress: Progress, *, today: date) -> CampaignView:
    """The API.md campaign, its phases' completion and lateness as of `today`."""
    phases = []
    for phase in row.phases:
        due_on = date.fromisoformat(phase["due_on"])
        done, done_on = _phase_done_on(phase, progress)
        phases.append(
            PhaseView(
                name=phase["name"],
                kind=phase.get("kind"),
                due_on=due_on,
                done_on=done_on,
                late=today > due_on and not done,
            )
        )
    return CampaignView(
        campaign_id=row.campaign_id,
        name=row.name,
        region_code=row.region_code,
        year=row.year,
        starts_on=row.starts_on,
        ends_on=phases[-1].due_on,
        phases=tuple(phases),
        reported_figures=row.reported_figures,
        late=any(p.late for p in phases),
        created_at=row.created_at,
    )


async def view_campaign(session: AsyncSession, row: CampaignRow, *, today: date) -> CampaignView:
    progress = await campaign_progress(session, [row])
    return campaign_view(row, progress[row.campaign_id], today=today)


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
) -> tuple[list[CampaignView], str | None]:
    """Campaigns whose region overlaps the caller's scope, newest first."""
    scope = principal.region_code
    if scope is None:
        raise NotFound()
    rows, next_cursor = await newest_first_rows(
        session,
        into=CampaignRow,
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
    return [campaign_view(r, progress[r.campaign_id], today=today) for r in rows], next_cursor
