"""Opening cases: from department warnings (the `identification.cases`
consumer of `warning.accepted`) and from manual clues (self-report 农户自主申报,
cadre screening 乡村干部排查).

A household has at most one open case (a partial unique index): a clue for a
household with an open case joins it. The clock starts the day the clue was
found: the day warnex received the warning, or the manual clue's `found_on`;
the deadline is that day plus the policy's decision days (15).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.lookup import HouseholdRow
from shared.errors import Conflict, invalid
from shared.event_types import CASE_OPENED, CASE_WARNINGS_ATTACHED, WARNING_ACCEPTED
from shared.events import EventConsumer, EventRecord, announce, notify
from shared.policy import get_policy

CONSUMER_ACTOR = "system:identification"

# Cases for the warnings' households that have none open. A household's
# earliest warning in the batch starts its clock. The partial unique index
# skips households with an open case (one opened by a manual clue meanwhile
# too), and the attach below finds it; a NOT EXISTS here would only give the
# planner a join to misjudge.
_OPEN_FOR_WARNINGS = """
WITH incoming AS (
    SELECT t.county_code, t.household_id, min(t.received_on) AS opened_on
    FROM unnest(CAST(:warning_ids AS uuid[]), CAST(:counties AS text[]),
                CAST(:households AS text[]), CAST(:received AS date[]))
         AS t(warning_id, county_code, household_id, received_on)
    WHERE NOT EXISTS (
        SELECT 1 FROM case_warnings cw
        WHERE cw.warning_id = t.warning_id AND cw.county_code = t.county_code)
    GROUP BY t.county_code, t.household_id
)
INSERT INTO cases (case_id, county_code, household_id, region_code, source, opened_on,
    deadline, state, opened_by)
SELECT gen_random_uuid(), i.county_code, i.household_id, h.region_code, 'department_warning',
    i.opened_on, i.opened_on + CAST(:decision_days AS int), 'open', :actor
FROM incoming i
JOIN LATERAL (
    SELECT h.region_code FROM households h
    WHERE h.county_code = i.county_code AND h.household_id = i.household_id
) h ON true
ON CONFLICT (county_code, household_id) WHERE state = 'open' DO NOTHING
RETURNING case_id
"""

# Every new warning joins its household's open case; re-delivered ones are
# already attached and change nothing. Answers the warnings attached per case.
_ATTACH_WARNINGS = """
WITH attached AS (
    INSERT INTO case_warnings (warning_id, county_code, case_id, warning_type)
    SELECT t.warning_id, t.county_code, c.case_id, t.warning_type
    FROM unnest(CAST(:warning_ids AS uuid[]), CAST(:counties AS text[]),
                CAST(:households AS text[]), CAST(:types AS text[]))
         AS t(warning_id, county_code, household_id, warning_type)
    -- A probe of the open-case index per warning, whatever the planner
    -- thinks of a table that grew by thousands of rows a moment ago.
    JOIN LATERAL (
        SELECT c.case_id FROM cases c
        WHERE c.county_code = t.county_code AND c.household_id = t.household_id
          AND c.state = 'open'
        LIMIT 1
    ) c ON true
    ON CONFLICT DO NOTHING
    RETURNING case_id, county_code, warning_id
)
SELECT case_id, county_code, to_jsonb(array_agg(warning_id::text ORDER BY warning_id))::text
FROM attached GROUP BY case_id, county_code
"""

# One event per case: `case.opened` for the cases opened by this batch,
# `case.warnings_attached` for the others (the caller knows which is which).
_CASE_EVENTS = """
INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)
SELECT c.county_code, t.type, 'case', c.case_id::text, :actor,
    jsonb_build_object('case_id', c.case_id::text, 'household_id', c.household_id,
        'county_code', c.county_code, 'region_code', c.region_code, 'source', c.source,
        'opened_on', c.opened_on, 'deadline', c.deadline,
        'warning_ids', CAST(t.warning_ids AS jsonb))
FROM unnest(CAST(:case_ids AS uuid[]), CAST(:counties AS text[]), CAST(:event_types AS text[]),
            CAST(:warning_ids AS text[])) AS t(case_id, county_code, type, warning_ids)
JOIN cases c ON c.case_id = t.case_id AND c.county_code = t.county_code
"""


async def open_cases_for_warnings(
    session: AsyncSession, events: list[EventRecord], *, decision_days: int, actor: str
) -> int:
    """Open or join a case for every accepted warning in `events`; return
    the number of cases opened. Set-based: three statements per batch."""
    if not events:
        return 0
    columns: dict[str, list[Any]] = {
        "warning_ids": [],
        "counties": [],
        "households": [],
        "received": [],
        "types": [],
    }
    for event in events:
        p = event.payload
        columns["warning_ids"].append(uuid.UUID(p["warning_id"]))
        columns["counties"].append(p["county_code"])
        columns["households"].append(p["household_id"])
        columns["received"].append(date.fromisoformat(p["received_on"]))
        columns["types"].append(p["warning_type"])
    opened = set(
        await session.scalars(
            text(_OPEN_FOR_WARNINGS),
            {**columns, "decision_days": decision_days, "actor": actor},
        )
    )
    attached = (await session.execute(text(_ATTACH_WARNINGS), columns)).all()
    if attached:
        await session.execute(
            text(_CASE_EVENTS),
            {
                "case_ids": [case_id for case_id, _, _ in attached],
                "counties": [county for _, county, _ in attached],
                "event_types": [
                    CASE_OPENED if case_id in opened else CASE_WARNINGS_ATTACHED
                    for case_id, _, _ in attached
                ],
                "warning_ids": [ids for _, _, ids in attached],
                "actor": actor,
            },
        )
    await notify(session)
    return len(opened)


async def _on_warnings(session: AsyncSession, events: list[EventRecord]) -> None:
    await open_cases_for_warnings(
        session,
        events,
        decision_days=get_policy().identification.decision_days,
        actor=CONSUMER_ACTOR,
    )


# It leads (the other consumers of the process wait while it works through a
# push's backlog: the cases are what people wait for) and reads 20,000 events
# a batch (half or more of a push's are other warning events it skips in SQL).
CASES_FROM_WARNINGS = EventConsumer(
    "identification.cases",
    _on_warnings,
    types=frozenset({WARNING_ACCEPTED}),
    batch_size=20_000,
    leads=True,
    linger_seconds=0.05,  # awake before the others (0.1 s), so it is first to mark itself busy
)


class CaseAlreadyOpen(Conflict):
    slug, title = "case_already_open", "The household already has an open case"


async def open_manual_case(
    session: AsyncSession,
    *,
    household: HouseholdRow,
    source: str,
    found_on: date,
    description: str,
    risk_types: list[str],
    actor: str,
    today: date,
) -> uuid.UUID:
    """Open a case for a self-report or a cadre's screening found on `found_on`.

    422 for a date in the future; 409 naming the open case when the
    household already has one. Audited and evented (`case.opened`).
    """
    if found_on > today:
        raise invalid("found_on", "date_in_future", "found_on must not be after today")
    case_id = uuid.uuid4()
    deadline = found_on + timedelta(days=get_policy().identification.decision_days)
    inserted = await session.scalar(
        text(
            "INSERT INTO cases (case_id, county_code, household_id, region_code, source,"
            " description, risk_types, opened_on, deadline, state, opened_by)"
            " VALUES (:case_id, :county_code, :household_id, :region_code, :source,"
            " :description, :risk_types, :opened_on, :deadline, 'open', :actor)"
            " ON CONFLICT (county_code, household_id) WHERE state = 'open' DO NOTHING"
            " RETURNING case_id"
        ),
        {
            "case_id": case_id,
            "county_code": household.county_code,
            "household_id": household.household_id,
            "region_code": household.region_code,
            "source": source,
            "description": description,
            "risk_types": risk_types,
            "opened_on": found_on,
            "deadline": deadline,
            "actor": actor,
        },
    )
    if inserted is None:
        existing = await session.scalar(
            text(
                "SELECT case_id FROM cases WHERE county_code = :county_code"
                " AND household_id = :household_id AND state = 'open'"
            ),
            {"county_code": household.county_code, "household_id": household.household_id},
        )
        raise CaseAlreadyOpen(
            f"The household already has the open case {existing}.",
            extra={"case_id": str(existing)},
        )
    payload = {
        "case_id": str(case_id),
        "household_id": household.household_id,
        "county_code": household.county_code,
        "region_code": household.region_code,
        "source": source,
        "opened_on": found_on.isoformat(),
        "deadline": deadline.isoformat(),
        "warning_ids": [],
    }
    await announce(
        session,
        type=CASE_OPENED,
        aggregate=("case", str(case_id)),
        county_code=household.county_code,
        actor=actor,
        payload=payload,
        details={"source": source, "found_on": found_on.isoformat()},
    )
    return case_id
