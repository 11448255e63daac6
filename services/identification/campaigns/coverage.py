"""A campaign's coverage, "no household left out" (不落一户, SPEC §11): per town
or village, registered households against those screened in the campaign, by
category, and the list of households not screened yet.

Both count the live registry: a household's village is where the registry
has it now, and a household registered after its village was screened is
unscreened until someone screens it. `general` and `poverty_alleviated`
split households by their registry category; `monitored` (a monitoring
object whose risk is not eliminated) overlaps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.campaigns.rows import CampaignRow
from services.identification.campaigns.schemas import CategoryCount, CoverageRow
from shared.auth import Principal, ensure_in_scope
from shared.db import fetch_all
from shared.errors import check_code, invalid
from shared.pagination import decode_cursor, page_of
from shared.regions import LEVEL_DIGITS, covers, is_well_formed, region_level, region_prefix


@dataclass(frozen=True, slots=True)
class CoverageCounts:
    """One region's registered and screened households, by category."""

    region_code: str
    region_name: str | None
    households: int
    screened: int
    general_households: int
    general_screened: int
    poverty_households: int
    poverty_screened: int
    monitored_households: int
    monitored_screened: int


@dataclass(frozen=True, slots=True)
class UnscreenedRow:
    """A registered household not screened in the campaign."""

    household_id: str
    region_code: str
    category: str


COVERAGE_LEVELS = ("town", "village")
CATEGORIES = ("general", "poverty_alleviated", "monitored")

# The fields of CoverageCounts: one row per region of the level inside the
# scope: every such region of the registry's `regions` table (zero counts
# included), and any village code households carry that the table lacks (a
# null name).
# Each household probes the screening and monitoring-object indexes (EXISTS)
# rather than leaving the join to a planner that may not have seen the rows a
# load or an upload added a moment ago.
_COVERAGE = text(
    """
WITH registered AS (
    SELECT left(h.region_code, :digits) AS prefix, h.category,
        EXISTS (
            SELECT 1 FROM screenings s
            WHERE s.campaign_id = :campaign_id AND s.county_code = h.county_code
              AND s.household_id = h.household_id) AS screened,
        EXISTS (
            SELECT 1 FROM monitoring_objects m
            WHERE m.county_code = h.county_code AND m.household_id = h.household_id
              AND m.status = 'risk_not_eliminated') AS monitored
    FROM households h
    WHERE h.county_code = :county_code AND h.region_code LIKE :scope
), counted AS (
    SELECT prefix,
        count(*) AS households,
        count(*) FILTER (WHERE screened) AS screened,
        count(*) FILTER (WHERE category = 'general') AS general_households,
        count(*) FILTER (WHERE category = 'general' AND screened) AS general_screened,
        count(*) FILTER (WHERE category = 'poverty_alleviated') AS poverty_households,
        count(*) FILTER (WHERE category = 'poverty_alleviated' AND screened)
            AS poverty_screened,
        count(*) FILTER (WHERE monitored) AS monitored_households,
        count(*) FILTER (WHERE monitored AND screened) AS monitored_screened
    FROM registered
    GROUP BY prefix
), listed AS (
    SELECT left(r.code, :digits) AS prefix, r.code, r.name FROM regions r
    WHERE r.code LIKE :scope AND r.level = :level
)
SELECT coalesce(l.code, rpad(c.prefix, 12, '0')) AS region_code, l.name AS region_name,
    coalesce(c.households, 0) AS households, coalesce(c.screened, 0) AS screened,
    coalesce(c.general_households, 0) AS general_households,
    coalesce(c.general_screened, 0) AS general_screened,
    coalesce(c.poverty_households, 0) AS poverty_households,
    coalesce(c.poverty_screened, 0) AS poverty_screened,
    coalesce(c.monitored_households, 0) AS monitored_households,
    coalesce(c.monitored_screened, 0) AS monitored_screened
FROM listed l FULL JOIN counted c ON c.prefix = l.prefix
ORDER BY 1
"""
)

# The fields of UnscreenedRow. LATERAL ... LIMIT 1: one probe of the
# screenings index per household, in the households index's order, whatever
# the planner thinks of the tables.
_UNSCREENED_FROM = """
SELECT h.household_id, h.region_code, h.category FROM households h
LEFT JOIN LATERAL (
    SELECT true AS screened FROM screenings s
    WHERE s.campaign_id = :campaign_id AND s.county_code = h.county_code
      AND s.household_id = h.household_id
    LIMIT 1
) s ON true
WHERE h.county_code = :county_code AND h.region_code LIKE :scope AND s.screened IS NULL
"""
_UNSCREENED_ORDER = " ORDER BY h.region_code, h.household_id LIMIT :page_limit"
# The first page, and a page after a cursor (the last row's village and household).
_UNSCREENED = text(_UNSCREENED_FROM + _UNSCREENED_ORDER)
_UNSCREENED_AFTER = text(
    _UNSCREENED_FROM
    + " AND (h.region_code, h.household_id) > (:after_region, :after_household)"
    + _UNSCREENED_ORDER
)


def coverage_region(campaign: CampaignRow, principal: Principal, requested: str | None) -> str:
    """The region a coverage read is about: `?region=` if inside the caller's
    scope (404 if not) and the campaign's region (422 if not); by default the
    narrower of the caller's scope and the campaign's region."""
    campaign_region = campaign.region_code
    if requested is None:
        scope = principal.region_code
        assert scope is not None
        return scope if covers(campaign_region, scope) else campaign_region
    if not is_well_formed(requested):
        raise invalid("region", "invalid_region_code", "region must be a 12-digit region code")
    ensure_in_scope(principal, requested)
    if not covers(campaign_region, requested):
        raise invalid(
            "region", "invalid_region_code", "region must lie inside the campaign's region"
        )
    return requested


def coverage_level(region_code: str, level: str | None) -> str:
    """`level` (town or village, not above the region's own); by default the
    level below a county or a town, and a village's own."""
    check_code("level", level, COVERAGE_LEVELS)
    own = region_level(region_code)
    if level is None:
        return "town" if own == "county" else "village"
    if LEVEL_DIGITS[own] > LEVEL_DIGITS["town" if level == "town" else "village"]:
        raise invalid("level", "invalid_code", f"level must not lie above the region's ({own})")
    return level


async def coverage(
    session: AsyncSession, *, campaign: CampaignRow, region_code: str, level: str
) -> list[CoverageRow]:
    """One row per region of `level` inside `region_code`, in code order."""
    counts = await fetch_all(
        session,
        _COVERAGE,
        {
            "campaign_id": campaign.campaign_id,
            "county_code": campaign.county_code,
            "scope": region_prefix(region_code) + "%",
            "digits": LEVEL_DIGITS["town" if level == "town" else "village"],
            "level": level,
        },
        into=CoverageCounts,
    )
    return [
        CoverageRow(
            region_code=row.region_code,
            region_name=row.region_name,
            households=row.households,
            screened=row.screened,
            by_category={
                "general": CategoryCount(
                    households=row.general_households, screened=row.general_screened
                ),
                "poverty_alleviated": CategoryCount(
                    households=row.poverty_households, screened=row.poverty_screened
                ),
                "monitored": CategoryCount(
                    households=row.monitored_households, screened=row.monitored_screened
                ),
            },
        )
        for row in counts
    ]


async def unscreened(
    session: AsyncSession,
    *,
    campaign: CampaignRow,
    region_code: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[UnscreenedRow], str | None]:
    """Registered households of `region_code` not screened in the campaign, by
    village and household id."""
    statement = _UNSCREENED if cursor is None else _UNSCREENED_AFTER
    params: dict[str, Any] = {
        "campaign_id": campaign.campaign_id,
        "county_code": campaign.county_code,
        "scope": region_prefix(region_code) + "%",
        "page_limit": limit + 1,
    }
    if cursor is not None:
        params["after_region"], params["after_household"] = decode_cursor(cursor, [str, str])
    rows = await fetch_all(session, statement, params, into=UnscreenedRow)
    return page_of(rows, limit, lambda row: (row.region_code, row.household_id))
