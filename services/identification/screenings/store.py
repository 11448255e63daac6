"""Storing a screenings upload (入户排查, SPEC §11) and its effects, set-based.

Each record is checked on its own (`check_screening`), then the upload's
households are looked up in one statement: one that is unknown, outside the
uploader's scope or outside the campaign's region is rejected in its row as
`unknown_household` (one message for all three, so that existence is not
revealed), and a second record for a household in the same upload as
`duplicate_in_upload`. The good records are written with one upsert: a
household already screened in the campaign has its record replaced.

A "yes" or "unsure" for needs-inclusion opens a `cadre_screening` case found
on the screening date (deadline = that day + the policy's decision days) for
a household with no open case, or joins the open one; the screening keeps the
case's id. "no" opens nothing. One `screening.recorded` event (counts only)
and one audit row per upload; nothing at all is written when every record is
rejected.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.campaigns.rows import CampaignRow
from services.identification.screenings.forms import BadRow
from services.identification.screenings.record import ScreeningRecord, check_screening
from shared.catalog import SCREENING_FIELDS
from shared.errors import FieldError, NotFound
from shared.event_types import CASE_OPENED, SCREENING_RECORDED
from shared.events import announce, notify
from shared.regions import region_prefix

OPENS_CASE = frozenset({"yes", "unsure"})
# Larger uploads list only their rejected records in the receipt (as ingest does).
FULL_RECEIPT_MAX = 10_000
# The receipt's counts the event and the audit row carry.
_COUNTED = ("accepted", "replaced", "rejected", "cases_opened", "cases_joined")

_UNKNOWN = FieldError(
    "household_id", "unknown_household", "no household with this id in your scope and campaign"
)
_DUPLICATE = FieldError(
    "household_id", "duplicate_in_upload", "the household has an earlier record in this upload"
)

# The upload's households that exist inside both the uploader's scope and the
# campaign's region, with their open case if any.
_HOUSEHOLDS = text(
    """
SELECT h.household_id, h.region_code, c.case_id AS open_case_id
FROM unnest(CAST(:household_ids AS text[])) AS t(household_id)
JOIN households h ON h.county_code = :county_code AND h.household_id = t.household_id
-- A probe of the open-case index per household (see opening.py).
LEFT JOIN LATERAL (
    SELECT c.case_id FROM cases c
    WHERE c.county_code = h.county_code AND c.household_id = h.household_id
      AND c.state = 'open'
    LIMIT 1
) c ON true
WHERE h.region_code LIKE :scope AND h.region_code LIKE :campaign_region
"""
)

# The partial unique index of open cases skips a household whose case was
# opened meanwhile; `_OPEN_CASES` then finds it.
_OPEN_CASES_FOR_SCREENINGS = text(
    """
INSERT INTO cases (case_id, county_code, household_id, region_code, source, description,
    opened_on, deadline, state, opened_by)
SELECT t.case_id, :county_code, t.household_id, t.region_code, 'cadre_screening',
    t.description, t.opened_on, t.opened_on + CAST(:decision_days AS int), 'open', :actor
FROM unnest(CAST(:case_ids AS uuid[]), CAST(:household_ids AS text[]),
            CAST(:region_codes AS text[]), CAST(:descriptions AS text[]),
            CAST(:opened_on AS date[]))
     AS t(case_id, household_id, region_code, description, opened_on)
ON CONFLICT (county_code, household_id) WHERE state = 'open' DO NOTHING
RETURNING household_id
"""
)
_OPEN_CASES = text(
    "SELECT household_id, case_id FROM cases WHERE county_code = :county_code"
    " AND household_id = ANY(CAST(:household_ids AS text[])) AND state = 'open'"
)

# One `case.opened` per opened case, the payload of opening.py's.
_CASE_OPENED_EVENTS = text(
    f"""
INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)
SELECT c.county_code, '{CASE_OPENED}', 'case', c.case_id::text, :actor,
    jsonb_build_object('case_id', c.case_id::text, 'household_id', c.household_id,
        'county_code', c.county_code, 'region_code', c.region_code, 'source', c.source,
        'opened_on', c.opened_on, 'deadline', c.deadline, 'warning_ids', '[]'::jsonb)
FROM cases c
WHERE c.county_code = :county_code AND c.case_id = ANY(CAST(:case_ids AS uuid[]))
"""
)

_FORM_COLUMNS = (
    ("screened_on", "date"),
    ("screener", "text"),
    ("residence", "text"),
    ("housing", "text"),
    ("schooling", "text"),
    ("drinking_water", "text"),
    ("insured", "text"),
    ("uninsured_members", "smallint"),
    ("income_band", "text"),
    ("rigid_expenditure", "boolean"),
    ("rigid_expenditure_reason", "text"),
    ("civil_affairs_support", "text"),
    ("needs_inclusion", "text"),
    ("notes", "text"),
)
_COLUMNS = (("household_id", "text"), ("region_code", "text"), *_FORM_COLUMNS, ("case_id", "uuid"))
_NAMES = ", ".join(name for name, _ in _COLUMNS)
# A later record replaces the household's earlier one and counts the replacement;
# `replaced` > 0 in the answer tells a replacement from a first record.
_UPSERT_SCREENINGS = text(
    f"""
INSERT INTO screenings (campaign_id, county_code, {_NAMES}, replaced, recorded_by, recorded_at)
SELECT :campaign_id, :county_code, {_NAMES}, 0, :actor, :now
FROM unnest({", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _COLUMNS)})
     AS t({_NAMES})
ON CONFLICT (campaign_id, county_code, household_id) DO UPDATE SET
    {", ".join(f"{name} = EXCLUDED.{name}" for name, _ in _COLUMNS[1:])},
    replaced = screenings.replaced + 1, recorded_by = EXCLUDED.recorded_by,
    recorded_at = EXCLUDED.recorded_at
RETURNING household_id, replaced > 0 AS replaced
"""
)


@dataclass(frozen=True, slots=True)
class Uploader:
    """Who uploads: the actor written down, and the scope that bounds the households."""

    actor: str
    scope: str


@dataclass(eq=False)
class _Line:
    index: int
    household_id: str | None
    errors: list[FieldError]
    record: ScreeningRecord | None = None
    region_code: str | None = None
    case_id: uuid.UUID | None = None
    opened: bool = False
    replaced: bool = False

    @property
    def status(self) -> str:
        if self.errors:
            return "rejected"
        return "replaced" if self.replaced else "accepted"


def _raw_household_id(raw: Any) -> str | None:
    value = raw.get("household_id") if isinstance(raw, dict) else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and 0 < len(value.strip()) <= 40:
        return value.strip()
    return None


def _check_lines(records: list[Any], *, year: int, today: date) -> list[_Line]:
    """Every record checked on its own; the later of two for one household rejected."""
    lines: list[_Line] = []
    seen: set[str] = set()
    for index, raw in enumerate(records):
        if isinstance(raw, BadRow):
            lines.append(_Line(index, None, list(raw.errors)))
            continue
        checked = check_screening(raw, year=year, today=today)
        if isinstance(checked, list):
            lines.append(_Line(index, _raw_household_id(raw), checked))
        elif checked.household_id in seen:
            lines.append(_Line(index, checked.household_id, [_DUPLICATE]))
        else:
            seen.add(checked.household_id)
            lines.append(_Line(index, checked.household_id, [], checked))
    return lines


async def store_screenings(
    session: AsyncSession,
    *,
    campaign: CampaignRow,
    records: list[Any],
    uploader: Uploader,
    decision_days: int,
    today: date,
    now: datetime,
) -> dict[str, Any]:
    """Store an upload's good records and their cases; return the receipt.

    404 when the upload is one record about a household the uploader may not
    see (unknown, outside the scope or the campaign), as for any single
    household outside a caller's scope."""
    lines = _check_lines(records, year=campaign.year, today=today)
    good = [line for line in lines if line.record is not None]
    county_code = campaign.county_code
    found = {}
    if good:
        rows = await session.execute(
            _HOUSEHOLDS,
            {
                "household_ids": [line.household_id for line in good],
                "county_code": county_code,
                "scope": region_prefix(uploader.scope) + "%",
                "campaign_region": region_prefix(campaign.region_code) + "%",
            },
        )
        found = {row.household_id: row for row in rows}
    for line in good:
        row = found.get(line.household_id)
        if row is None:
            line.record, line.errors = None, [_UNKNOWN]
        else:
            line.region_code, line.case_id = row.region_code, row.open_case_id
    if len(lines) == 1 and lines[0].errors == [_UNKNOWN]:
        raise NotFound()
    stored = [line for line in lines if line.record is not None]
    if stored:
        await _open_cases(
            session, campaign=campaign, lines=stored, uploader=uploader, days=decision_days
        )
        await _upsert(session, campaign=campaign, lines=stored, uploader=uploader, now=now)
    receipt = _receipt(campaign, lines)
    if stored:
        counts = {key: receipt[key] for key in _COUNTED}
        campaign_id = str(campaign.campaign_id)
        await announce(
            session,
            type=SCREENING_RECORDED,
            aggregate=("campaign", campaign_id),
            county_code=campaign.county_code,
            actor=uploader.actor,
            payload={"campaign_id": campaign_id, **counts},
            details={"received": receipt["received"], **counts},
        )
    return receipt


async def _open_cases(
    session: AsyncSession,
    *,
    campaign: CampaignRow,
    lines: list[_Line],
    uploader: Uploader,
    days: int,
) -> None:
    """Open a case for each "yes"/"unsure" household without an open one; the
    others keep the open case found with the household."""
    for line in lines:
        assert line.record is not None
        if line.record.needs_inclusion not in OPENS_CASE:
            line.case_id = None
    to_open = [
        (line, line.record)
        for line in lines
        if line.record is not None
        and line.record.needs_inclusion in OPENS_CASE
        and line.case_id is None
    ]
    if not to_open:
        return
    labels = SCREENING_FIELDS["needs_inclusion"]
    new_ids = [uuid.uuid4() for _ in to_open]
    inserted = set(
        await session.scalars(
            _OPEN_CASES_FOR_SCREENINGS,
            {
                "county_code": campaign.county_code,
                "case_ids": new_ids,
                "household_ids": [record.household_id for _, record in to_open],
                "region_codes": [line.region_code for line, _ in to_open],
                "descriptions": [
                    f"{campaign.name}: {labels[record.needs_inclusion]}" for _, record in to_open
                ],
                "opened_on": [record.screened_on for _, record in to_open],
                "decision_days": days,
                "actor": uploader.actor,
            },
        )
    )
    raced = [record.household_id for _, record in to_open if record.household_id not in inserted]
    open_now: dict[str, uuid.UUID] = {}
    if raced:
        rows = await session.execute(
            _OPEN_CASES, {"county_code": campaign.county_code, "household_ids": raced}
        )
        open_now = {row.household_id: row.case_id for row in rows}
    for (line, record), case_id in zip(to_open, new_ids, strict=True):
        if record.household_id in inserted:
            line.case_id, line.opened = case_id, True
        else:
            line.case_id = open_now.get(record.household_id)
    opened = [line.case_id for line, _ in to_open if line.opened]
    if opened:
        await session.execute(
            _CASE_OPENED_EVENTS,
            {"county_code": campaign.county_code, "case_ids": opened, "actor": uploader.actor},
        )
        await notify(session)


async def _upsert(
    session: AsyncSession,
    *,
    campaign: CampaignRow,
    lines: list[_Line],
    uploader: Uploader,
    now: datetime,
) -> None:
    columns: dict[str, list[Any]] = {name: [] for name, _ in _COLUMNS}
    for line in lines:
        assert line.record is not None
        columns["household_id"].append(line.household_id)
        columns["region_code"].append(line.region_code)
        columns["case_id"].append(line.case_id)
        for name, _ in _FORM_COLUMNS:
            columns[name].append(getattr(line.record, name))
    rows = await session.execute(
        _UPSERT_SCREENINGS,
        {
            **columns,
            "campaign_id": campaign.campaign_id,
            "county_code": campaign.county_code,
            "actor": uploader.actor,
            "now": now,
        },
    )
    replaced = {row.household_id for row in rows if row.replaced}
    for line in lines:
        line.replaced = line.household_id in replaced


def _receipt(campaign: CampaignRow, lines: list[_Line]) -> dict[str, Any]:
    shown = lines if len(lines) <= FULL_RECEIPT_MAX else [ln for ln in lines if ln.errors]
    stored = [line for line in lines if not line.errors]
    return {
        "campaign_id": campaign.campaign_id,
        "received": len(lines),
        "accepted": sum(1 for line in stored if not line.replaced),
        "replaced": sum(1 for line in stored if line.replaced),
        "rejected": len(lines) - len(stored),
        "cases_opened": sum(1 for line in stored if line.opened),
        "cases_joined": sum(1 for line in stored if line.case_id and not line.opened),
        "records": [
            {
                "index": line.index,
                "household_id": line.household_id,
                "status": line.status,
                "errors": [error.as_dict() for error in line.errors],
                "case_id": line.case_id,
            }
            for line in shown
        ],
    }
