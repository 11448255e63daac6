"""Cross-screening (交叉排查) and spot-check (暗访抽查) samples of a screening
campaign (SPEC §11): the reproducible draw, the checkers' records, and the
differences between a checker's findings and the village's screening record.

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
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.campaigns import CampaignInScope
from services.identification.sampling import (
    Village,
    draw_households,
    draw_villages,
    new_seed,
    reads_as_id_number,
)
from services.identification.screening_record import FINDING_FIELDS, check_screening
from shared import audit
from shared.auth import Principal
from shared.clock import local_date
from shared.db import SessionDep
from shared.errors import FieldError, NotFound, Unprocessable, invalid
from shared.event_types import SPOT_CHECK_DRAWN, SPOT_CHECK_RESULTS_RECORDED
from shared.events import publish
from shared.models.columns import Json
from shared.policy import get_policy
from shared.regions import covers, region_prefix

NOT_SCREENED = "not_screened"


def _pattern(campaign: dict[str, Any], principal: Principal) -> str:
    """LIKE pattern of the part of the campaign's region the caller sees: the
    campaign's region, or the caller's scope when that lies inside it."""
    scope, region = principal.region_code, campaign["region_code"]
    assert scope is not None  # campaign_in_scope checked it
    return region_prefix(scope if covers(region, scope) else region) + "%"


# -- the draw ------------------------------------------------------------------------


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
    campaign: dict[str, Any],
    principal: Principal,
    kind: str,
    seed: int | None,
) -> dict[str, Any]:
    """Draw, store and announce (`spot_check.drawn`, audited) a sample of the
    campaign; return its view. 422 when the region has no registered household,
    or a given seed reads as an ID number (events refuse those)."""
    if seed is None:
        seed = new_seed()
    elif reads_as_id_number(seed):
        raise invalid("seed", "invalid_value", "choose another seed (this one reads as an ID)")
    county, pattern = campaign["county_code"], _pattern(campaign, principal)
    frame = [
        Village(**row)
        for row in (
            await session.execute(
                _FRAME,
                {"county": county, "pattern": pattern, "campaign_id": campaign["campaign_id"]},
            )
        ).mappings()
    ]
    if not frame:
        raise invalid("campaign_id", "no_households", "the region has no registered households")
    policy = get_policy().screening
    rng = random.Random(seed)
    villages = draw_villages(frame, rng=rng, per_town=policy.min_villages_per_town)
    by_village: dict[str, list[str]] = defaultdict(list)
    for row in await session.execute(_HOUSEHOLDS, {"county": county, "villages": villages}):
        by_village[row.region_code].append(row.household_id)
    sample = draw_households(by_village, rng=rng, per_village=policy.min_households_per_village)
    spot_check = {
        "spot_check_id": uuid.uuid4(),
        "county_code": county,
        "campaign_id": campaign["campaign_id"],
        "kind": kind,
        "seed": seed,
        "created_at": None,
    }
    key = {"id": spot_check["spot_check_id"], "county": county}
    spot_check["created_at"] = await session.scalar(
        _INSERT_SPOT_CHECK,
        {**key, "campaign_id": campaign["campaign_id"], "kind": kind, "seed": seed}
        | {"actor": principal.actor},
    )
    await session.execute(
        _INSERT_SAMPLE,
        {**key, "households": [h for _, h in sample], "regions": [v for v, _ in sample]},
    )
    spot_check_id = str(spot_check["spot_check_id"])
    payload = {
        "spot_check_id": spot_check_id,
        "campaign_id": str(campaign["campaign_id"]),
        "kind": kind,
        "seed": seed,
        "households": len(sample),
        "villages": len(villages),
    }
    await publish(
        session,
        type=SPOT_CHECK_DRAWN,
        aggregate=("spot_check", spot_check_id),
        county_code=county,
        actor=principal.actor,
        payload=payload,
    )
    await audit.record(
        session,
        actor=principal.actor,
        action=SPOT_CHECK_DRAWN,
        target_type="spot_check",
        target_id=spot_check_id,
        county_code=county,
        details=payload,
    )
    return await spot_check_view(
        session, campaign=campaign, spot_check=spot_check, principal=principal
    )


# -- reading -------------------------------------------------------------------------

SPOT_CHECK_COLUMNS = (
    "sc.spot_check_id, sc.county_code, sc.campaign_id, sc.kind, sc.seed, sc.created_at"
)


async def spot_check_in_campaign(
    spot_check_id: uuid.UUID, campaign: CampaignInScope, session: SessionDep
) -> dict[str, Any]:
    """The spot check of the campaign, or 404."""
    row = (
        (
            await session.execute(
                text(
                    f"SELECT {SPOT_CHECK_COLUMNS} FROM spot_checks sc"
                    " WHERE sc.spot_check_id = :id AND sc.county_code = :county"
                    " AND sc.campaign_id = :campaign_id"
                ),
                {
                    "id": spot_check_id,
                    "county": campaign["county_code"],
                    "campaign_id": campaign["campaign_id"],
                },
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound()
    return dict(row)


SpotCheckInCampaign = Annotated[dict[str, Any], Depends(spot_check_in_campaign)]

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


def differences_of(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A checked household's differences from the village's record: each finding
    field whose values differ, or one `screening` difference when the village
    has no record of it."""
    checker = row["checker_record"]
    if checker is None:
        return []
    household_id = row["household_id"]
    if not row["screened"]:
        return [
            {
                "household_id": household_id,
                "field": "screening",
                "village_value": NOT_SCREENED,
                "checker_value": "screened",
            }
        ]
    return [
        {
            "household_id": household_id,
            "field": field,
            "village_value": row[field],
            "checker_value": checker.get(field),
        }
        for field in FINDING_FIELDS
        if row[field] != checker.get(field)
    ]


def count_differences(differences: list[dict[str, Any]]) -> dict[str, Any]:
    by_field = dict.fromkeys((*FINDING_FIELDS, "screening"), 0)
    for difference in differences:
        by_field[difference["field"]] += 1
    return {
        "total": len(differences),
        "households_with_differences": len({d["household_id"] for d in differences}),
        "by_field": by_field,
    }


async def spot_check_view(
    session: AsyncSession,
    *,
    campaign: dict[str, Any],
    spot_check: dict[str, Any],
    principal: Principal,
) -> dict[str, Any]:
    """The sample as API.md shows it, limited to the caller's scope: its
    villages, households (checked or not) and the differences found."""
    rows = [
        dict(row)
        for row in (
            await session.execute(
                _SAMPLE,
                {
                    "id": spot_check["spot_check_id"],
                    "county": spot_check["county_code"],
                    "campaign_id": spot_check["campaign_id"],
                    "pattern": _pattern(campaign, principal),
                },
            )
        ).mappings()
    ]
    villages: dict[str, dict[str, Any]] = {}
    for row in rows:
        village = villages.setdefault(
            row["region_code"],
            {"region_code": row["region_code"], "region_name": row["region_name"], "households": 0},
        )
        village["households"] += 1
    differences = [d for row in rows for d in differences_of(row)]
    return {
        "spot_check_id": spot_check["spot_check_id"],
        "campaign_id": spot_check["campaign_id"],
        "kind": spot_check["kind"],
        "seed": spot_check["seed"],
        "created_at": spot_check["created_at"],
        "villages": list(villages.values()),
        "households": [
            {
                "household_id": row["household_id"],
                "region_code": row["region_code"],
                "checked": row["checker_record"] is not None,
                "checked_at": row["checked_at"],
            }
            for row in rows
        ],
        "differences": differences,
        "difference_counts": count_differences(differences),
    }


async def list_spot_checks(
    session: AsyncSession, *, campaign: dict[str, Any], principal: Principal
) -> list[dict[str, Any]]:
    """The campaign's samples, newest first, with their households (in the
    caller's scope) and how many of those are checked."""
    rows = await session.execute(
        text(
            f"SELECT {SPOT_CHECK_COLUMNS}, count(h.household_id) AS households,"
            " count(h.checker_record) AS checked"
            " FROM spot_checks sc LEFT JOIN spot_check_households h"
            "   ON h.spot_check_id = sc.spot_check_id AND h.county_code = sc.county_code"
            "   AND h.region_code LIKE :pattern"
            " WHERE sc.campaign_id = :campaign_id AND sc.county_code = :county"
            " GROUP BY sc.spot_check_id, sc.county_code"
            " ORDER BY sc.created_at DESC, sc.spot_check_id DESC"
        ),
        {
            "campaign_id": campaign["campaign_id"],
            "county": campaign["county_code"],
            "pattern": _pattern(campaign, principal),
        },
    )
    return [dict(row) for row in rows.mappings()]


# -- checkers' records -----------------------------------------------------------------

_SAMPLED = text(
    "SELECT household_id, region_code FROM spot_check_households"
    " WHERE spot_check_id = :id AND county_code = :county"
    " AND household_id = ANY(CAST(:ids AS text[]))"
)
_RECORD_RESULTS = text(
    "UPDATE spot_check_households h SET checker_record = e.r->'record', checked_by = :actor,"
    " checked_at = :now"
    " FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS e(r)"
    " WHERE h.spot_check_id = :id AND h.county_code = :county"
    " AND h.household_id = e.r->>'household_id'"
).bindparams(bindparam("rows", type_=Json))


async def record_results(
    session: AsyncSession,
    *,
    campaign: dict[str, Any],
    spot_check: dict[str, Any],
    records: list[Any],
    principal: Principal,
    now: datetime,
) -> dict[str, Any]:
    """Store checkers' records (the screening shape, `screened_on` in the
    campaign's year) of sampled households; return the spot check's view.

    All or nothing: if any record breaks a rule — a field (see
    `check_screening`), a household twice in the upload (`duplicate_in_batch`,
    the later one), or a household not in the sample or outside the caller's
    scope (`not_in_sample`) — the answer is 422 with every error, its field
    `records.<index>.<field>` (0-based), and nothing is stored. A record for a
    household checked before replaces the earlier one. Announces
    `spot_check.results_recorded` and audits it.
    """
    errors: dict[int, list[FieldError]] = defaultdict(list)
    accepted: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, raw in enumerate(records):
        checked = check_screening(raw, year=campaign["year"], today=local_date(now))
        if isinstance(checked, list):
            errors[index] += [
                FieldError(f"records.{index}.{e.field}", e.code, e.message) for e in checked
            ]
        elif checked.household_id in accepted:
            errors[index].append(
                FieldError(
                    f"records.{index}.household_id",
                    "duplicate_in_batch",
                    "the household has a record earlier in this upload",
                )
            )
        else:
            accepted[checked.household_id] = (index, asdict(checked))
    key = {"id": spot_check["spot_check_id"], "county": spot_check["county_code"]}
    sampled = {
        row.household_id: row.region_code
        for row in await session.execute(_SAMPLED, {**key, "ids": list(accepted)})
    }
    for household_id, (index, _) in accepted.items():
        region = sampled.get(household_id)
        if region is None or not principal.covers(region):
            errors[index].append(
                FieldError(
                    f"records.{index}.household_id",
                    "not_in_sample",
                    "the household is not in this sample inside your scope",
                )
            )
    if errors:
        raise Unprocessable(
            "Some records break a rule; nothing was stored.",
            errors=[e for index in sorted(errors) for e in errors[index]],
        )
    rows = [{"household_id": h, "record": record} for h, (_, record) in accepted.items()]
    await session.execute(
        _RECORD_RESULTS, {**key, "rows": rows, "actor": principal.actor, "now": now}
    )
    view = await spot_check_view(
        session, campaign=campaign, spot_check=spot_check, principal=principal
    )
    differences = [d for d in view["differences"] if d["household_id"] in accepted]
    spot_check_id = str(spot_check["spot_check_id"])
    payload = {
        "spot_check_id": spot_check_id,
        "campaign_id": str(spot_check["campaign_id"]),
        "checked": len(accepted),
        "differences": len(differences),
    }
    await publish(
        session,
        type=SPOT_CHECK_RESULTS_RECORDED,
        aggregate=("spot_check", spot_check_id),
        county_code=spot_check["county_code"],
        actor=principal.actor,
        payload=payload,
    )
    await audit.record(
        session,
        actor=principal.actor,
        action=SPOT_CHECK_RESULTS_RECORDED,
        target_type="spot_check",
        target_id=spot_check_id,
        county_code=spot_check["county_code"],
        details=payload,
    )
    return view
