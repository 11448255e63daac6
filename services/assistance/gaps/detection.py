"""Assistance gaps (帮扶缺口), computed live, and the gap scan that announces them.

A gap is a rule of SPEC §5 that a monitoring object breaks today, with the
date it has been broken since:

- `no_development_measure`: a member able to work (labour capacity other than
  `none`) and no development measure that is not cancelled (no "一兜了之").
  Not for an object the county flagged `whole_household_no_labour`. Since the
  inclusion, or the day its last development measure was cancelled if later.
- `no_insurance_subsidy`: no insurance subsidy measure (医保参保资助) that is
  not cancelled. Since the inclusion.
- `no_measure_30d`: no measure at all (cancelled ones do not count) more than
  `no_measure_gap_days` after the inclusion. Since inclusion + that many days.
- `visit_overdue`: no visit (每月入户走访: a monthly visit of the household, or an
  assessment of either kind) for more than `visit_interval_days` (31: overdue
  from the 32nd day), counted from the latest visit or, before the first
  after it, from the inclusion. Since that day + the interval. A
  poverty-alleviated household without an object at risk has the same gap
  (`object_id` null), counted from its latest visit (an assessment of any of
  its objects counts) or, before the first, from its registration.
- `look_back_due` (an addition to API.md's four): an eliminated object
  (risk_eliminated) with no look-back (回头看) for more than
  `look_back_interval_days`, counted from the latest look-back after its
  elimination, or from the elimination. Since that day + the interval.

The first four concern objects still `risk_not_eliminated`. A measure counts
as soon as it is planned, so planning one closes its gap at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.assistance.gaps.schemas import GapKind
from shared.clock import local_date
from shared.db import fetch_all
from shared.errors import invalid
from shared.event_types import GAP_OPENED
from shared.events import notify
from shared.gaps import GAP_KINDS, gaps_sql
from shared.gaps import gap_params as _params
from shared.pagination import decode_cursor, page_of
from shared.regions import scope_like_pattern

SCAN_ACTOR = "system:gap-scan"


@dataclass(frozen=True, slots=True)
class GapRow:
    """A gap open today (API.md `Gap`): an object's, or (`object_id` None) a
    poverty-alleviated household's."""

    object_id: uuid.UUID | None
    household_id: str
    region_code: str
    kind: GapKind
    since: date


# A household's gap has no object: it sorts as the nil uuid, then by household.
_NIL = uuid.UUID(int=0)
_OBJECT_KEY = f"COALESCE(g.object_id, CAST('{_NIL}' AS uuid))"


async def list_gaps(
    session: AsyncSession,
    *,
    region_code: str,
    kind: str | None,
    today: date,
    limit: int,
    cursor: str | None = None,
) -> tuple[list[GapRow], str | None]:
    """Today's gaps of the objects inside `region_code` (of one `kind` if given),
    ordered by since, object and kind, `limit` at a time; 422 `invalid_code`
    for an unknown kind. Returns the page and the cursor of the next (or None)."""
    if kind is not None and kind not in GAP_KINDS:
        raise invalid("kind", "invalid_code", "kind must be one of " + ", ".join(GAP_KINDS))
    params = _params(today=today, scope=scope_like_pattern(region_code)) | {"limit": limit + 1}
    key = f"g.since, {_OBJECT_KEY}, g.kind, g.household_id"
    where = ""
    if cursor is not None:
        since, object_id, after_kind, household = decode_cursor(cursor, (date, uuid.UUID, str, str))
        where = f"WHERE ({key}) > (:after_since, :after_id, :after_kind, :after_household)"
        params |= {
            "after_since": since,
            "after_id": object_id,
            "after_kind": after_kind,
            "after_household": household,
        }
    # The fields of GapRow, built per request: the kinds and the cursor vary.
    sql = gaps_sql((kind,) if kind else GAP_KINDS) + (
        "SELECT g.object_id, g.household_id, g.region_code, g.kind, g.since FROM gaps g"
        f" {where} ORDER BY {key} LIMIT :limit"
    )
    rows = await fetch_all(session, text(sql), params, into=GapRow)
    return page_of(
        rows, limit, lambda row: [row.since, row.object_id or _NIL, row.kind, row.household_id]
    )


# Set-based: every gap now, a notice per new (object, kind, since) (the primary
# key makes a second run a no-op), an event per new notice, counts per kind.
_SCAN = text(
    gaps_sql()
    + """,
noticed AS (
    INSERT INTO gap_notices (county_code, object_id, kind, since, noticed_at)
    SELECT county_code, object_id, kind, since, :now FROM gaps WHERE object_id IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING county_code, object_id, kind, since
), noticed_households AS (
    INSERT INTO household_gap_notices (county_code, household_id, kind, since, noticed_at)
    SELECT county_code, household_id, kind, since, :now FROM gaps WHERE object_id IS NULL
    ON CONFLICT DO NOTHING
    RETURNING county_code, household_id, kind, since
), emitted AS (
    INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)
    SELECT n.county_code, :type, 'monitoring_object', n.object_id::text, :actor,
           jsonb_build_object('object_id', n.object_id::text, 'household_id', g.household_id,
                              'kind', n.kind, 'since', n.since,
                              'county_code', n.county_code, 'region_code', g.region_code)
    FROM noticed n JOIN gaps g USING (county_code, object_id, kind, since)
    UNION ALL
    SELECT n.county_code, :type, 'household', n.household_id, :actor,
           jsonb_build_object('object_id', NULL, 'household_id', n.household_id,
                              'kind', n.kind, 'since', n.since,
                              'county_code', n.county_code, 'region_code', g.region_code)
    FROM noticed_households n
    JOIN gaps g ON g.object_id IS NULL AND g.county_code = n.county_code
               AND g.household_id = n.household_id AND g.kind = n.kind AND g.since = n.since
    RETURNING payload->>'kind' AS kind
)
SELECT 'open' AS counted, kind, count(*) AS n FROM gaps GROUP BY kind
UNION ALL
SELECT 'noticed', kind, count(*) FROM emitted GROUP BY kind
"""
)


async def scan_gaps(session: AsyncSession, *, now: datetime) -> dict[str, Any]:
    """Record every gap open at `now` and emit `assistance.gap_opened` once per
    new one (never commits).

    Idempotent: a gap already announced (same object, kind and since) is not
    announced again; one that closes and opens again with another `since` is.
    Returns `{"open": {kind: gaps open now}, "noticed": {kind: events emitted}}`.
    """
    params = _params(today=local_date(now), scope="%") | {
        "now": now,
        "type": GAP_OPENED,
        "actor": SCAN_ACTOR,
    }
    counts: dict[str, dict[str, int]] = {
        "open": dict.fromkeys(GAP_KINDS, 0),
        "noticed": dict.fromkeys(GAP_KINDS, 0),
    }
    for row in await session.execute(_SCAN, params):
        counts[row.counted][row.kind] = int(row.n)
    if any(counts["noticed"].values()):
        await notify(session)
    return counts
