"""A spot check's sample as the caller sees it, and the differences between a
checker's findings and the village's screening record (SPEC §11)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.campaigns.lookup import CampaignInScope
from services.identification.campaigns.rows import CampaignRow
from services.identification.screenings.record import FINDING_FIELDS
from services.identification.spot_checks.schemas import (
    DifferenceCountsOut,
    DifferenceOut,
    SampledHouseholdOut,
    SampledVillageOut,
    SpotCheckKind,
    SpotCheckOut,
)
from shared.auth import Principal
from shared.db import SessionDep, fetch_all, fetch_one
from shared.errors import NotFound
from shared.regions import covers, region_prefix

NOT_SCREENED = "not_screened"


def sample_pattern(campaign: CampaignRow, principal: Principal) -> str:
    """LIKE pattern of the part of the campaign's region the caller sees: the
    campaign's region, or the caller's scope when that lies inside it."""
    scope, region = principal.region_code, campaign.region_code
    assert scope is not None  # campaign_in_scope checked it
    return region_prefix(scope if covers(region, scope) else region) + "%"


# -- the draw ------------------------------------------------------------------------


# -- reading -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpotCheckRow:
    """A drawn sample (spot check) of a campaign, plus its county."""

    spot_check_id: uuid.UUID
    county_code: str
    campaign_id: uuid.UUID
    kind: SpotCheckKind
    seed: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SpotCheckSummaryRow:
    """A sample in the campaign's list: SpotCheckRow's fields, and its
    households inside the caller's scope and how many of them are checked."""

    spot_check_id: uuid.UUID
    county_code: str
    campaign_id: uuid.UUID
    kind: SpotCheckKind
    seed: int
    created_at: datetime
    households: int
    checked: int


# The fields of SpotCheckRow.
SPOT_CHECK_COLUMNS = (
    "sc.spot_check_id, sc.county_code, sc.campaign_id, sc.kind, sc.seed, sc.created_at"
)

# Within its campaign (and county, the table's key): another campaign's id is a 404.
_SPOT_CHECK_IN_CAMPAIGN = text(
    f"SELECT {SPOT_CHECK_COLUMNS} FROM spot_checks sc"
    " WHERE sc.spot_check_id = :id AND sc.county_code = :county"
    " AND sc.campaign_id = :campaign_id"
)

# Households counted inside the caller's part of the region only (`:pattern`).
_SPOT_CHECKS_OF_CAMPAIGN = text(
    f"SELECT {SPOT_CHECK_COLUMNS}, count(h.household_id) AS households,"
    " count(h.checker_record) AS checked"
    " FROM spot_checks sc LEFT JOIN spot_check_households h"
    "   ON h.spot_check_id = sc.spot_check_id AND h.county_code = sc.county_code"
    "   AND h.region_code LIKE :pattern"
    " WHERE sc.campaign_id = :campaign_id AND sc.county_code = :county"
    " GROUP BY sc.spot_check_id, sc.county_code"
    " ORDER BY sc.created_at DESC, sc.spot_check_id DESC"
)


async def spot_check_in_campaign(
    spot_check_id: uuid.UUID, campaign: CampaignInScope, session: SessionDep
) -> SpotCheckRow:
    """The spot check of the campaign, or 404."""
    row = await fetch_one(
        session,
        _SPOT_CHECK_IN_CAMPAIGN,
        {"id": spot_check_id, "county": campaign.county_code, "campaign_id": campaign.campaign_id},
        into=SpotCheckRow,
    )
    if row is None:
        raise NotFound()
    return row


SpotCheckInCampaign = Annotated[SpotCheckRow, Depends(spot_check_in_campaign)]

# Each sampled household with the village's screening record beside the
# checker's: the finding fields are the screening form's (FINDING_FIELDS), read
# as mappings, one column per field.
_SAMPLE = text(
    f"""
SELECT h.household_id, h.region_code, r.name AS region_name, h.checker_record, h.checked_at,
       s.household_id IS NOT NULL AS screened,
       {", ".join(f"s.{field}" for field in FINDING_FIELDS)}
FROM spot_check_households h
LEFT JOIN regions r ON r.code = h.region_code
LEFT JOIN screenings s ON s.campaign_id = :campaign_id AND s.county_code = h.county_code
    AND s.household_id = h.household_id
WHERE h.spot_check_id = :id AND h.county_code = :county AND h.region_code LIKE :pattern
ORDER BY h.region_code, h.household_id
"""
)


def differences_of(row: RowMapping) -> list[DifferenceOut]:
    """A checked household's differences from the village's record: each finding
    field whose values differ, or one `screening` difference when the village
    has no record of it."""
    checker = row["checker_record"]
    if checker is None:
        return []
    household_id = row["household_id"]
    if not row["screened"]:
        return [
            DifferenceOut(
                household_id=household_id,
                field="screening",
                village_value=NOT_SCREENED,
                checker_value="screened",
            )
        ]
    return [
        DifferenceOut(
            household_id=household_id,
            field=field,
            village_value=row[field],
            checker_value=checker.get(field),
        )
        for field in FINDING_FIELDS
        if row[field] != checker.get(field)
    ]


def count_differences(differences: list[DifferenceOut]) -> DifferenceCountsOut:
    by_field = dict.fromkeys((*FINDING_FIELDS, "screening"), 0)
    for difference in differences:
        by_field[difference.field] += 1
    return DifferenceCountsOut(
        total=len(differences),
        households_with_differences=len({d.household_id for d in differences}),
        by_field=by_field,
    )


async def spot_check_view(
    session: AsyncSession,
    *,
    campaign: CampaignRow,
    spot_check: SpotCheckRow,
    principal: Principal,
) -> SpotCheckOut:
    """The sample as API.md shows it, limited to the caller's scope: its
    villages, households (checked or not) and the differences found."""
    params = {
        "id": spot_check.spot_check_id,
        "county": spot_check.county_code,
        "campaign_id": spot_check.campaign_id,
        "pattern": sample_pattern(campaign, principal),
    }
    rows = (await session.execute(_SAMPLE, params)).mappings().all()
    households = Counter(row["region_code"] for row in rows)
    names = {row["region_code"]: row["region_name"] for row in rows}
    differences = [d for row in rows for d in differences_of(row)]
    return SpotCheckOut(
        spot_check_id=spot_check.spot_check_id,
        campaign_id=spot_check.campaign_id,
        kind=spot_check.kind,
        seed=spot_check.seed,
        created_at=spot_check.created_at,
        villages=[
            SampledVillageOut(region_code=code, region_name=names[code], households=count)
            for code, count in households.items()
        ],
        households=[
            SampledHouseholdOut(
                household_id=row["household_id"],
                region_code=row["region_code"],
                checked=row["checker_record"] is not None,
                checked_at=row["checked_at"],
            )
            for row in rows
        ],
        differences=differences,
        difference_counts=count_differences(differences),
    )


async def list_spot_checks(
    session: AsyncSession, *, campaign: CampaignRow, principal: Principal
) -> list[SpotCheckSummaryRow]:
    """The campaign's samples, newest first, with their households (in the
    caller's scope) and how many of those are checked."""
    return await fetch_all(
        session,
        _SPOT_CHECKS_OF_CAMPAIGN,
        {
            "campaign_id": campaign.campaign_id,
            "county": campaign.county_code,
            "pattern": sample_pattern(campaign, principal),
        },
        into=SpotCheckSummaryRow,
    )
