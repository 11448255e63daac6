"""Cross-screening (交叉排查) and spot-check (暗访抽查) samples of a screening
campaign (SPEC §11): the reproducible draw (views.py reads a sample and its
differences, results.py stores the checkers' records).

The draw: every town inside the campaign's region (narrowed to the caller's
scope when that lies inside it) gives at least `min_villages_per_town` of its
villages with registered households (all of them if it has fewer), and each
sampled village at least `min_households_per_village` of its registered
households (all if fewer). Villages that reported no problem in this campaign,
or that have no monitoring object (removed ones do not count), are weighted
`FOCUS_WEIGHT` to 1 (weighted sampling without replacement, Efraimidis-Spirakis
keys). The same seed over the same registry and ledger draws the same sample:
the inputs are sorted and one `random.Random(seed)` draws the villages town by
town, then the households village by village.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.campaigns.rows import CampaignRow
from services.identification.spot_checks.sampling import (
    Village,
    draw_households,
    draw_villages,
    new_seed,
    reads_as_id_number,
)
from services.identification.spot_checks.schemas import SpotCheckKind, SpotCheckOut
from services.identification.spot_checks.views import SpotCheckRow, sample_pattern, spot_check_view
from shared.auth import Principal
from shared.db import fetch_all
from shared.errors import invalid
from shared.event_types import SPOT_CHECK_DRAWN
from shared.events import announce
from shared.policy import get_policy

_FRAME = text(
    """
WITH v AS (
    SELECT h.region_code, count(*) AS households
    FROM households h
    WHERE h.county_code = :county AND h.region_code LIKE :pattern
    GROUP BY h.region_code
), p AS (
    -- A household's problem counts for the household's village.
    SELECT COALESCE(h.region_code, x.region_code) AS region_code, count(*) AS n
    FROM problems x
    LEFT JOIN households h ON h.county_code = x.county_code AND h.household_id = x.household_id
    WHERE x.county_code = :county AND x.campaign_id = :campaign_id
    GROUP BY 1
), o AS (
    SELECT region_code, count(*) AS n FROM monitoring_objects
    WHERE county_code = :county AND region_code LIKE :pattern AND status <> 'removed'
    GROUP BY region_code
)
SELECT v.region_code, v.households, COALESCE(p.n, 0) AS problems, COALESCE(o.n, 0) AS objects
FROM v LEFT JOIN p USING (region_code) LEFT JOIN o USING (region_code)
ORDER BY v.region_code
"""
)
_HOUSEHOLDS = text(
    "SELECT region_code, household_id FROM households"
    " WHERE county_code = :county AND region_code = ANY(CAST(:villages AS text[]))"
)
_INSERT_SPOT_CHECK = text(
    "INSERT INTO spot_checks (spot_check_id, county_code, campaign_id, kind, seed, created_by)"
    " VALUES (:id, :county, :campaign_id, :kind, :seed, :actor) RETURNING created_at"
)
_INSERT_SAMPLE = text(
    "INSERT INTO spot_check_households (spot_check_id, county_code, household_id, region_code)"
    " SELECT :id, :county, t.household_id, t.region_code"
    " FROM unnest(CAST(:households AS text[]), CAST(:regions AS text[]))"
    " AS t(household_id, region_code)"
)


async def draw_spot_check(
    session: AsyncSession,
    *,
    campaign: CampaignRow,
    principal: Principal,
    kind: SpotCheckKind,
    seed: int | None,
) -> SpotCheckOut:
    """Draw, store and announce (`spot_check.drawn`, audited) a sample of the
    campaign; return its view. 422 when the region has no registered household,
    or a given seed reads as an ID number (events refuse those)."""
    if seed is None:
        seed = new_seed()
    elif reads_as_id_number(seed):
        raise invalid("seed", "invalid_value", "choose another seed (this one reads as an ID)")
    county, pattern = campaign.county_code, sample_pattern(campaign, principal)
    frame = await fetch_all(
        session,
        _FRAME,
        {"county": county, "pattern": pattern, "campaign_id": campaign.campaign_id},
        into=Village,
    )
    if not frame:
        raise invalid("campaign_id", "no_households", "the region has no registered households")
    policy = get_policy().screening
    rng = random.Random(seed)
    villages = draw_villages(frame, rng=rng, per_town=policy.min_villages_per_town)
    by_village: dict[str, list[str]] = defaultdict(list)
    for row in await session.execute(_HOUSEHOLDS, {"county": county, "villages": villages}):
        by_village[row.region_code].append(row.household_id)
    sample = draw_households(by_village, rng=rng, per_village=policy.min_households_per_village)
    new_id = uuid.uuid4()
    key = {"id": new_id, "county": county}
    created_at = await session.scalar(
        _INSERT_SPOT_CHECK,
        {**key, "campaign_id": campaign.campaign_id, "kind": kind, "seed": seed}
        | {"actor": principal.actor},
    )
    spot_check = SpotCheckRow(
        spot_check_id=new_id,
        county_code=county,
        campaign_id=campaign.campaign_id,
        kind=kind,
        seed=seed,
        created_at=created_at,
    )
    await session.execute(
        _INSERT_SAMPLE,
        {**key, "households": [h for _, h in sample], "regions": [v for v, _ in sample]},
    )
    spot_check_id = str(spot_check.spot_check_id)
    payload = {
        "spot_check_id": spot_check_id,
        "campaign_id": str(campaign.campaign_id),
        "kind": kind,
        "seed": seed,
        "households": len(sample),
        "villages": len(villages),
    }
    await announce(
        session,
        type=SPOT_CHECK_DRAWN,
        aggregate=("spot_check", spot_check_id),
        county_code=county,
        actor=principal.actor,
        payload=payload,
        details=payload,
    )
    return await spot_check_view(
        session, campaign=campaign, spot_check=spot_check, principal=principal
    )
