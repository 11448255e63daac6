"""Keeps `warnings.case_id` and `warnings.outcome` current from the case events
written by identification (consumer `ingest.case-outcomes`).

A batch is applied with two statements whatever its size: attachments first,
then decisions, so a case opened and decided within one batch ends decided.
Re-delivery is harmless: each statement only writes rows whose value differs.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.event_types import CASE_DECIDED, CASE_OPENED, CASE_WARNINGS_ATTACHED
from shared.events import EventConsumer, EventRecord

# A warning moved to another case is undecided there: its old outcome goes.
_ATTACH = text(
    "UPDATE warnings w SET case_id = u.case_id, outcome = NULL"
    " FROM unnest(CAST(:counties AS text[]), CAST(:warning_ids AS uuid[]),"
    "             CAST(:case_ids AS uuid[])) AS u(county_code, warning_id, case_id)"
    " WHERE w.county_code = u.county_code AND w.warning_id = u.warning_id"
    " AND w.case_id IS DISTINCT FROM u.case_id"
)
_DECIDE = text(
    "UPDATE warnings w SET outcome = u.outcome"
    " FROM unnest(CAST(:counties AS text[]), CAST(:case_ids AS uuid[]),"
    "             CAST(:outcomes AS text[])) AS u(county_code, case_id, outcome)"
    " WHERE w.county_code = u.county_code AND w.case_id = u.case_id"
    " AND w.outcome IS DISTINCT FROM u.outcome"
)


async def apply_case_events(session: AsyncSession, events: list[EventRecord]) -> None:
    """Set the case of every listed warning and the outcome of decided cases."""
    # Keyed so that the latest event wins: UPDATE ... FROM with two source rows
    # for one target row would apply either of them.
    attached: dict[tuple[str, uuid.UUID], uuid.UUID] = {}
    decided: dict[tuple[str, uuid.UUID], str] = {}
    for event in events:
        case_id = uuid.UUID(event.payload["case_id"])
        if event.type == CASE_DECIDED:
            decided[(event.county_code, case_id)] = event.payload["outcome"]
        else:
            for warning_id in event.payload["warning_ids"]:
                attached[(event.county_code, uuid.UUID(warning_id))] = case_id
    if attached:
        await session.execute(
            _ATTACH,
            {
                "counties": [county for county, _ in attached],
                "warning_ids": [warning for _, warning in attached],
                "case_ids": list(attached.values()),
            },
        )
    if decided:
        await session.execute(
            _DECIDE,
            {
                "counties": [county for county, _ in decided],
                "case_ids": [case for _, case in decided],
                "outcomes": list(decided.values()),
            },
        )


CASE_OUTCOMES = EventConsumer(
    "ingest.case-outcomes",
    apply_case_events,
    types=frozenset({CASE_OPENED, CASE_WARNINGS_ATTACHED, CASE_DECIDED}),
)
