"""Checkers' records of a spot check's sampled households (SPEC §11)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.campaigns.rows import CampaignRow
from services.identification.screenings.record import check_screening
from services.identification.spot_checks.schemas import SpotCheckOut
from services.identification.spot_checks.views import SpotCheckRow, spot_check_view
from shared.auth import Principal
from shared.clock import local_date
from shared.errors import FieldError, Unprocessable
from shared.event_types import SPOT_CHECK_RESULTS_RECORDED
from shared.events import announce
from shared.models.columns import Json

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
    campaign: CampaignRow,
    spot_check: SpotCheckRow,
    records: list[Any],
    principal: Principal,
    now: datetime,
) -> SpotCheckOut:
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
        checked = check_screening(raw, year=campaign.year, today=local_date(now))
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
    key = {"id": spot_check.spot_check_id, "county": spot_check.county_code}
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
    differences = [d for d in view.differences if d.household_id in accepted]
    spot_check_id = str(spot_check.spot_check_id)
    payload = {
        "spot_check_id": spot_check_id,
        "campaign_id": str(spot_check.campaign_id),
        "checked": len(accepted),
        "differences": len(differences),
    }
    await announce(
        session,
        type=SPOT_CHECK_RESULTS_RECORDED,
        aggregate=("spot_check", spot_check_id),
        county_code=spot_check.county_code,
        actor=principal.actor,
        payload=payload,
        details=payload,
    )
    return view
