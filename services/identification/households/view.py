"""The household view: a household with its members, monitoring objects, cases
and warnings, and the audited reveal of its members' ID numbers (SPEC §2, §9)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.lookup import CASE_COLUMNS, CaseRow, HouseholdRow, case_view
from services.identification.objects.monitoring_objects import OBJECT_COLUMNS, ObjectRow
from services.identification.objects.schemas import MonitoringObjectOut
from shared import audit
from shared.db import fetch_all
from shared.pii import PiiProtector

ID_NUMBERS_REVEALED = "household.id_numbers_revealed"

_MEMBERS = """
SELECT id_masked, id_sealed, name, relation, labour_capacity, disability_grade, in_school,
    birth_date, sex
FROM members
WHERE county_code = :county_code AND household_id = :household_id
ORDER BY relation <> 'head', birth_date, id_hash
"""

# Newest inclusion first; removed and eliminated ones are the history.
_OBJECTS = text(f"""
SELECT {OBJECT_COLUMNS}
FROM monitoring_objects o
WHERE o.county_code = :county_code AND o.household_id = :household_id
ORDER BY o.included_on DESC, o.object_id DESC
""")

# Newest first: the household view lists its cases as history.
_CASES = text(f"""
SELECT {CASE_COLUMNS}
FROM cases c
WHERE c.county_code = :county_code AND c.household_id = :household_id
ORDER BY c.opened_on DESC, c.case_id DESC
""")

# Through the village index (warnings have none by household): a matched
# warning is filed under its household's village.
_WARNINGS = """
SELECT w.warning_id, w.warning_type, w.department, w.status, w.id_masked AS id_number,
    w.event_date, w.received_at, w.late, w.case_id
FROM warnings w
WHERE w.region_code = :region_code AND w.county_code = :county_code
    AND w.household_id = :household_id
ORDER BY w.received_at DESC, w.warning_id DESC
"""


def age_on(born: date, today: date) -> int:
    """Full years of age on `today`."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


async def _rows(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in (await session.execute(text(sql), params)).mappings()]


def _object_in_force(objects: list[ObjectRow]) -> ObjectRow | None:
    active = [o for o in objects if o.status == "risk_not_eliminated"]
    if active:
        return active[0]
    return next((o for o in objects if o.status != "removed"), None)


def _object_out(row: ObjectRow) -> MonitoringObjectOut:
    return MonitoringObjectOut.model_validate(row, from_attributes=True)


async def household_view(
    session: AsyncSession,
    *,
    household: HouseholdRow,
    today: date,
    reveal: bool = False,
    protector: PiiProtector | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """The household as API.md shows it. Members' ID numbers are masked unless
    `reveal`, which needs `protector` and `actor` and writes one audit record
    (the count of members, never the numbers). The caller checks the role."""
    key = {"county_code": household.county_code, "household_id": household.household_id}
    members = await _rows(session, _MEMBERS, key)
    if reveal:
        if protector is None or actor is None:
            raise ValueError("a reveal needs the protector and the actor")
        for member in members:
            member["id_number"] = protector.open(member["id_sealed"])
        await audit.record(
            session,
            actor=actor,
            action=ID_NUMBERS_REVEALED,
            target_type="household",
            target_id=household.household_id,
            county_code=household.county_code,
            details={"members": len(members)},
        )
    else:
        for member in members:
            member["id_number"] = member["id_masked"]
    for member in members:
        del member["id_sealed"], member["id_masked"]
        born = member.pop("birth_date")
        member["age"] = age_on(born, today)
        # Digits 7-14 of an ID number are the birth date: with it beside the
        # mask, the full number is rebuilt without the audited reveal.
        if reveal:
            member["birth_date"] = born
    objects = await fetch_all(session, _OBJECTS, key, into=ObjectRow)
    cases = await fetch_all(session, _CASES, key, into=CaseRow)
    warnings = await _rows(session, _WARNINGS, {**key, "region_code": household.region_code})
    in_force = _object_in_force(objects)
    return {
        "household_id": household.household_id,
        "region_code": household.region_code,
        "category": household.category,
        "head_name": household.head_name,
        "revealed": reveal,
        "members": members,
        "monitoring_object": None if in_force is None else _object_out(in_force),
        "monitoring_objects": [_object_out(row) for row in objects],
        "cases": [case_view(row, today=today) for row in cases],
        "warnings": warnings,
    }
