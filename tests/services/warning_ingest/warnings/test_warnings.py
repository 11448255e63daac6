"""`GET /ingest/v1/warnings` and `/warnings/{id}`: scope, filters, keyset pages, masking."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from shared import clock
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    COUNTY,
    VILLAGE,
    department_headers,
    person,
    record,
    register,
    staff_headers,
)

WARNINGS = "/ingest/v1/warnings"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
OTHER_VILLAGE = "610326100202"
OTHER_COUNTY = "610327000000"
# Odd sequence numbers: person(2k) and person(2k + 1) are the same man.
PEOPLE = [1, 3, 5, 7, 9, 11]


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def push(client, headers, *records, at: datetime = NOW) -> list[str]:
    """Push `records` at the instant `at`; return their warning ids in order."""
    with clock.frozen_at(at):
        response = await client.post(BATCHES, json={"records": list(records)}, headers=headers)
    assert response.status_code == 201, response.text
    return [r["warning_id"] for r in response.json()["records"]]


async def push_one_by_one(client, session, count: int) -> list[str]:
    """`count` matched warnings, each a minute after the last; ids oldest first."""
    seqs = PEOPLE[:count]
    await register(session, "H-1", seqs)
    headers = await department_headers(session, "civil_affairs")
    ids: list[str] = []
    for minute, seq in enumerate(seqs):
        ids += await push(client, headers, record(seq), at=NOW + timedelta(minutes=minute))
    return ids


def ids_of(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [w["warning_id"] for w in response.json()["items"]]


# -------------------------------------------------------------------- scope


async def test_staff_see_the_warnings_of_their_scope_only(client, session):
    await register(session, "H-1", [1])
    await register(session, "H-2", [2], region=OTHER_VILLAGE)
    headers = await department_headers(session, "civil_affairs")
    here, there = await push(client, headers, record(1), record(2))

    county = await client.get(WARNINGS, headers=await staff_headers(session))
    assert sorted(ids_of(county)) == sorted([here, there])
    village = await client.get(
        WARNINGS, headers=await staff_headers(session, "village_staff", VILLAGE)
    )
    assert ids_of(village) == [here]
    township = await client.get(
        WARNINGS, headers=await staff_headers(session, "township_staff", "610326100000")
    )
    assert sorted(ids_of(township)) == sorted([here, there])


async def test_village_staff_of_another_village_see_none_of_them(client, session):
    await register(session, "H-1", [1, 2])
    headers = await department_headers(session, "civil_affairs")
    await push(client, headers, record(1), record(2))
    other = await staff_headers(session, "village_staff", OTHER_VILLAGE)
    response = await client.get(WARNINGS, headers=other)
    assert response.json() == {"items": [], "next_cursor": None}


async def test_region_outside_the_scope_is_not_found(client, session):
    await register(session, "H-1", [1])
    await push(client, await department_headers(session, "civil_affairs"), record(1))
    other_county = await staff_headers(session, "county_staff", OTHER_COUNTY)
    response = await client.get(WARNINGS, params={"region": COUNTY}, headers=other_county)
    assert response.status_code == 404
    assert ids_of(await client.get(WARNINGS, headers=other_county)) == []


async def test_region_filter_inside_the_scope_narrows_to_that_region(client, session):
    await register(session, "H-1", [1])
    await register(session, "H-2", [2], region=OTHER_VILLAGE)
    headers = await department_headers(session, "civil_affairs")
    _, there = await push(client, headers, record(1), record(2))
    county = await staff_headers(session)
    response = await client.get(WARNINGS, params={"region": OTHER_VILLAGE}, headers=county)
    assert ids_of(response) == [there]


async def test_department_clients_may_not_list_warnings(client, session):
    headers = await department_headers(session, "civil_affairs")
    assert (await client.get(WARNINGS, headers=headers)).status_code == 403


async def test_listing_warnings_needs_a_token(client, session):
    assert (await client.get(WARNINGS)).status_code == 401
    bogus = {"Authorization": "Bearer wx_not-a-token"}
    assert (await client.get(WARNINGS, headers=bogus)).status_code == 401


# ------------------------------------------------------------------ filters


async def test_filters_each_narrow_the_list(client, session):
    await register(session, "H-1", [1, 3, 5])
    civil = await department_headers(session, "civil_affairs")
    medical = await department_headers(session, "medical_insurance")
    dibao, tekun, stranger = await push(
        client, civil, record(1), record(3, "tekun"), record(9, "dibao")
    )
    [medical_id] = await push(client, medical, record(5, "high_medical_expense", amount_yuan=50000))
    staff = await staff_headers(session)

    async def listed(**params: str) -> list[str]:
        return sorted(ids_of(await client.get(WARNINGS, params=params, headers=staff)))

    assert await listed() == sorted([dibao, tekun, stranger, medical_id])
    assert await listed(warning_type="tekun") == [tekun]
    assert await listed(warning_type="dibao") == sorted([dibao, stranger])
    assert await listed(department="medical_insurance") == [medical_id]
    assert await listed(status="unmatched") == [stranger]
    assert await listed(status="matched") == sorted([dibao, tekun, medical_id])
    assert await listed(status="matched", department="civil_affairs") == sorted([dibao, tekun])


@pytest.mark.parametrize(
    ("field", "value"),
    [("warning_type", "flood"), ("department", "police"), ("status", "open")],
)
async def test_filter_value_outside_its_code_list_is_invalid_code(client, session, field, value):
    staff = await staff_headers(session)
    response = await client.get(WARNINGS, params={field: value}, headers=staff)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": field, "code": "invalid_code", "message": response.json()["errors"][0]["message"]}
    ]


# ------------------------------------------------------------------- paging


async def test_pages_list_every_warning_once_newest_first(client, session):
    ids = await push_one_by_one(client, session, 5)
    staff = await staff_headers(session)
    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(WARNINGS, params=params, headers=staff)).json()
        sizes.append(len(page["items"]))
        seen += [w["warning_id"] for w in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sizes == [2, 2, 1]
    assert seen == list(reversed(ids))


async def test_pages_stay_stable_when_a_warning_arrives_between_them(client, session):
    ids = await push_one_by_one(client, session, 5)
    staff = await staff_headers(session)
    first = (await client.get(WARNINGS, params={"limit": 2}, headers=staff)).json()
    await register(session, "H-6", [11])
    await push(
        client,
        await department_headers(session, "civil_affairs"),
        record(11),
        at=NOW + timedelta(hours=1),
    )
    second = (
        await client.get(
            WARNINGS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=staff
        )
    ).json()
    third = (
        await client.get(
            WARNINGS, params={"limit": 2, "cursor": second["next_cursor"]}, headers=staff
        )
    ).json()
    seen = [w["warning_id"] for page in (first, second, third) for w in page["items"]]
    assert seen == list(reversed(ids))
    assert third["next_cursor"] is None


async def test_pages_over_one_batch_list_each_warning_once(client, session):
    # One push: every warning has the same received_at, the id breaks the tie.
    await register(session, "H-1", PEOPLE[:5])
    headers = await department_headers(session, "civil_affairs")
    ids = await push(client, headers, *(record(seq) for seq in PEOPLE[:5]))
    staff = await staff_headers(session)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(3):
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(WARNINGS, params=params, headers=staff)).json()
        seen += [w["warning_id"] for w in page["items"]]
        cursor = page["next_cursor"]
    assert cursor is None
    assert sorted(seen) == sorted(ids) and len(seen) == 5


async def test_a_cursor_the_list_did_not_make_is_refused(client, session):
    staff = await staff_headers(session)
    response = await client.get(WARNINGS, params={"cursor": "not-a-cursor"}, headers=staff)
    assert response.status_code == 422


# ------------------------------------------------------------------ masking


async def test_id_numbers_are_masked_and_never_shown_in_full(client, session):
    await register(session, "H-1", [1])
    headers = await department_headers(session, "civil_affairs")
    [matched, unmatched] = await push(client, headers, record(1), record(2))
    staff = await staff_headers(session)
    response = await client.get(WARNINGS, headers=staff)
    by_id = {w["warning_id"]: w for w in response.json()["items"]}
    assert by_id[matched]["id_number"] == person(1)[:6] + "*" * 8 + person(1)[-4:]
    assert by_id[unmatched]["id_number"] == person(2)[:6] + "*" * 8 + person(2)[-4:]
    for number in (person(1), person(2)):
        assert number not in response.text
        detail = await client.get(f"{WARNINGS}/{matched}", headers=staff)
        assert number not in detail.text


# ------------------------------------------------------------------- detail


async def test_one_warning_in_scope_has_every_field_of_the_contract(client, session):
    await register(session, "H-1", [1], name="李四")
    headers = await department_headers(session, "emergency_management")
    [warning_id] = await push(
        client,
        headers,
        record(1, "disaster", event_date="2026-11-10", region_code=VILLAGE),
    )
    staff = await staff_headers(session, "village_staff", VILLAGE)
    response = await client.get(f"{WARNINGS}/{warning_id}", headers=staff)
    assert response.status_code == 200
    body = response.json()
    expected = {
        "warning_id": warning_id,
        "department": "emergency_management",
        "warning_type": "disaster",
        "source_record_id": "R-1",
        "id_number": person(1)[:6] + "********" + person(1)[-4:],
        "name": "张三",
        "region_code": VILLAGE,
        "household_id": "H-1",
        "event_date": "2026-11-10",
        "amount_yuan": None,
        "received_at": body["received_at"],
        "status": "matched",
        "late": True,
        "name_mismatch": True,
        "case_id": None,
    }
    assert {key: body[key] for key in expected} == expected
    assert datetime.fromisoformat(body["received_at"]) == NOW


async def test_medical_warning_shows_its_amount_in_yuan(client, session):
    await register(session, "H-1", [1])
    headers = await department_headers(session, "medical_insurance")
    [warning_id] = await push(
        client, headers, record(1, "high_medical_expense", amount_yuan=20000.5)
    )
    response = await client.get(f"{WARNINGS}/{warning_id}", headers=await staff_headers(session))
    assert float(response.json()["amount_yuan"]) == 20000.5
    assert response.json()["event_date"] is None


async def test_one_warning_outside_the_scope_is_not_found(client, session):
    await register(session, "H-1", [1])
    [warning_id] = await push(client, await department_headers(session, "civil_affairs"), record(1))
    for headers in (
        await staff_headers(session, "village_staff", OTHER_VILLAGE),
        await staff_headers(session, "county_staff", OTHER_COUNTY),
    ):
        response = await client.get(f"{WARNINGS}/{warning_id}", headers=headers)
        assert response.status_code == 404
        assert person(1) not in response.text


async def test_unknown_warning_is_not_found(client, session):
    staff = await staff_headers(session)
    assert (await client.get(f"{WARNINGS}/{uuid.uuid4()}", headers=staff)).status_code == 404


async def test_department_clients_may_not_read_a_warning(client, session):
    headers = await department_headers(session, "civil_affairs")
    [warning_id] = await push(client, headers, record(1))
    assert (await client.get(f"{WARNINGS}/{warning_id}", headers=headers)).status_code == 403
