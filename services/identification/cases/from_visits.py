"""Cases from monthly visits: a visit (每月走访, recorded by assistance) that
found a new risk opens a `cadre_screening` case (乡村干部排查) found on the
visit's day, unless the household already has an open case, which then
follows the risk. Assistance asks through its `visit.recorded` event; see
services/assistance/visits/recording.py for why not a shared function.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.lookup import HouseholdRow
from services.identification.cases.opening import CaseAlreadyOpen, open_manual_case
from shared import clock
from shared.db import fetch_all
from shared.event_types import VISIT_RECORDED
from shared.events import EventConsumer, EventRecord, notify

# What the case says of itself: no name, no detail of the household.
DESCRIPTION = "每月走访发现新的风险 (a monthly visit found a new risk)"

# The households of a batch's visits, in one statement.
_HOUSEHOLDS = text(
    "SELECT h.county_code, h.household_id, h.region_code, h.category, h.head_name"
    " FROM households h"
    " JOIN unnest(CAST(:counties AS text[]), CAST(:ids AS text[])) AS t(county_code, household_id)"
    " ON h.county_code = t.county_code AND h.household_id = t.household_id"
)


async def open_cases_for_visits(
    session: AsyncSession, events: list[EventRecord], *, today: date
) -> int:
    """Open a case for each visit in `events` that found a new risk and whose
    household has none open; return how many were opened. One case per visit
    at most, so a loop over the few visits of a batch that found a risk."""
    risky = [e for e in events if e.type == VISIT_RECORDED and e.payload.get("new_risk")]
    if not risky:
        return 0
    params = {
        "counties": [e.payload["county_code"] for e in risky],
        "ids": [e.payload["household_id"] for e in risky],
    }
    rows = await fetch_all(session, _HOUSEHOLDS, params, into=HouseholdRow)
    households = {(h.county_code, h.household_id): h for h in rows}
    opened = 0
    for event in risky:
        p = event.payload
        # A visit is recorded only for a household of the table (recording.py
        # reads it) and households are never deleted; should one be missing, the
        # visit opens no case rather than stop the consumer for good.
        household = households.get((p["county_code"], p["household_id"]))
        if household is None:
            continue
        try:
            await open_manual_case(
                session,
                household=household,
                source="cadre_screening",
                found_on=min(date.fromisoformat(p["visited_on"]), today),
                description=DESCRIPTION,
                risk_types=[],
                actor=event.actor,
                today=today,
            )
        except CaseAlreadyOpen:
            continue  # the open case follows the household's risk
        opened += 1
    if opened:
        await notify(session)
    return opened


async def _on_visits(session: AsyncSession, events: list[EventRecord]) -> None:
    await open_cases_for_visits(session, events, today=clock.today())


CASES_FROM_VISITS = EventConsumer(
    "identification.cases_from_visits",
    _on_visits,
    types=frozenset({VISIT_RECORDED}),
    batch_size=500,
)
