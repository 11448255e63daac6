"""Issue 21, finding 1: a masked ID number hides exactly the birth date (digits
7-14), so no answer without the audited reveal may hold a member's birth date
in any form; the age is what staff see instead."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared import clock
from tests.services.identification.id_helpers import (
    COUNTY,
    TOWN,
    VILLAGE,
    department_headers,
    open_case,
    person,
    register,
    staff_headers,
)
from tests.services.warning_ingest.ingest_helpers import BATCHES, record

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
# Born 1980-01-01 and 1980-07-20 (person() counts a day every 500 numbers).
SEQS = (1, 201 * 500 + 3)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


def _birth_date(seq: int) -> date:
    number = person(seq)
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _forms(born: date) -> list[str]:
    """Every spelling of a birth date a reader could rebuild the number from."""
    return [
        born.isoformat(),
        born.strftime("%Y%m%d"),
        born.strftime("%Y/%m/%d"),
        born.strftime("%d/%m/%Y"),
        born.strftime("%m/%d/%Y"),
        f"{born.year}年{born.month}月{born.day}日",
        f"{born.year}-{born.month}-{born.day}",
    ]


async def _household_with_warning_and_case(client, session) -> str:
    await register(session, "H-1", list(SEQS))
    pushed = await client.post(
        BATCHES,
        json={"records": [record(seq) for seq in SEQS]},
        headers=await department_headers(session, "civil_affairs"),
    )
    assert pushed.status_code == 201, pushed.text
    case = await open_case(client, session, "H-1")
    return case["case_id"]


@pytest.mark.parametrize(
    ("role", "region"),
    [("county_staff", COUNTY), ("township_staff", TOWN), ("village_staff", VILLAGE)],
)
async def test_no_answer_without_reveal_holds_a_members_birth_date(client, session, role, region):
    case_id = await _household_with_warning_and_case(client, session)
    headers = await staff_headers(session, role, region)
    answers = [
        await client.get("/identification/v1/households/H-1", headers=headers),
        await client.get("/identification/v1/cases", headers=headers),
        await client.get(f"/identification/v1/cases/{case_id}", headers=headers),
        await client.get("/ingest/v1/warnings", headers=headers),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        for seq in SEQS:
            for form in _forms(_birth_date(seq)):
                assert form not in answer.text, (answer.url, form)
    members = answers[0].json()["members"]
    assert sorted(m["age"] for m in members) == [46, 46]
    assert all(m["birth_date"] is None for m in members)


async def test_the_audited_reveal_shows_the_birth_date_with_the_number(client, session):
    await _household_with_warning_and_case(client, session)
    headers = await staff_headers(session)
    body = (
        await client.get(
            "/identification/v1/households/H-1", params={"reveal": "true"}, headers=headers
        )
    ).json()
    shown = {m["id_number"]: (m["birth_date"], m["age"]) for m in body["members"]}
    assert shown == {
        person(1): ("1980-01-01", 46),
        person(SEQS[1]): (_birth_date(SEQS[1]).isoformat(), 46),
    }
