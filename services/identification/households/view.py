"""The household view: a household with its members, monitoring objects, cases
and warnings, and the audited reveal of its members' ID numbers (SPEC §2, §9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.lookup import CASE_COLUMNS, CaseRow, HouseholdRow, case_view
from services.identification.households.schemas import HouseholdOut, HouseholdWarningOut, MemberOut
from services.identification.objects.monitoring_objects import OBJECT_COLUMNS, ObjectRow
from services.identification.objects.schemas import MonitoringObjectOut
from shared import audit
from shared.db import fetch_all
from shared.pii import PiiProtector

ID_NUMBERS_REVEALED = "household.id_numbers_revealed"


@dataclass(frozen=True, slots=True)
class MemberRow:
    """A member as the registry holds them: the ID number masked and sealed."""

    id_masked: str
    id_sealed: bytes
    name: str
    relation: str
    labour_capacity: str
    disability_grade: int | None
    in_school: bool
    birth_date: date
    sex: str | None


@dataclass(frozen=True, slots=True)
class HouseholdWarningRow:
    """A warning of the household (API.md `HouseholdWarning`), the ID masked."""

    warning_id: uuid.UUID
    warning_type: str
    department: str
    status: str
    id_number: str
    event_date: date | None
    received_at: datetime
    late: bool
    case_id: uuid.UUID | None


# The fields of MemberRow, the head first, then by age.
_MEMBERS = text("""
SELECT id_masked, id_sealed, name, relation, labour_capacity, disability_grade, in_school,
    birth_date, sex
FROM members
WHERE county_code = :county_code AND household_id = :household_id
ORDER BY relation <> 'head', birth_date, id_hash
""")

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

# The fields of HouseholdWarningRow, through the village index (warnings have
# none by household): a matched warning is filed under its household's village.
_WARNINGS = text("""
SELECT w.warning_id, w.warning_type, w.department, w.status, w.id_masked AS id_number,
    w.event_date, w.received_at, w.late, w.case_id
FROM warnings w
WHERE w.region_code = :region_code AND w.county_code = :county_code
    AND w.household_id = :household_id
ORDER BY w.received_at DESC, w.warning_id DESC
""")


def age_on(born: date, today: date) -> int:
    """Full years of age on `today`."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _member_out(member: MemberRow, *, id_number: str, today: date, reveal: bool) -> MemberOut:
    return MemberOut(
        id_number=id_number,
        name=member.name,
        relation=member.relation,
        labour_capacity=member.labour_capacity,
        disability_grade=member.disability_grade,
        in_school=member.in_school,
        age=age_on(member.birth_date, today),
        # Digits 7-14 of an ID number are the birth date: with it beside the
        # mask, the full number is rebuilt without the audited reveal.
        birth_date=member.birth_date if reveal else None,
        sex=member.sex,
    )


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
) -> HouseholdOut:
    """The household as API.md shows it. Members' ID numbers are masked unless
    `reveal`, which needs `protector` and `actor` and writes one audit record
    (the count of members, never the numbers). The caller checks the role."""
    key = {"county_code": household.county_code, "household_id": household.household_id}
    members = await fetch_all(session, _MEMBERS, key, into=MemberRow)
    ids = [member.id_masked for member in members]
    if reveal:
        if protector is None or actor is None:
            raise ValueError("a reveal needs the protector and the actor")
        ids = [protector.open(member.id_sealed) for member in members]
        await audit.record(
            session,
            actor=actor,
            action=ID_NUMBERS_REVEALED,
            target_type="household",
            target_id=household.household_id,
            county_code=household.county_code,
            details={"members": len(members)},
        )
    objects = await fetch_all(session, _OBJECTS, key, into=ObjectRow)
    cases = await fetch_all(session, _CASES, key, into=CaseRow)
    warnings = await fetch_all(
        session, _WARNINGS, {**key, "region_code": household.region_code}, into=HouseholdWarningRow
    )
    in_force = _object_in_force(objects)
    return HouseholdOut(
        household_id=household.household_id,
        region_code=household.region_code,
        category=household.category,
        head_name=household.head_name,
        revealed=reveal,
        members=[
            _member_out(member, id_number=id_number, today=today, reveal=reveal)
            for member, id_number in zip(members, ids, strict=True)
        ],
        monitoring_object=None if in_force is None else _object_out(in_force),
        monitoring_objects=[_object_out(row) for row in objects],
        cases=[case_view(row, today=today) for row in cases],
        warnings=[HouseholdWarningOut.model_validate(w, from_attributes=True) for w in warnings],
    )
