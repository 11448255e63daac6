"""`POST /ingest/v1/batches`: receipts, matching, policy, idempotency, events."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import text

from shared import clock
from tests.services.warning_ingest.batches.push_paths import push_path  # noqa: F401
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    VILLAGE,
    department_headers,
    person,
    record,
    register,
)

pytestmark = pytest.mark.usefixtures("push_path")

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _rows(session, sql: str, **params):
    return (await session.execute(text(sql), params)).all()


async def test_matched_record_is_stored_and_announced_without_its_id_number(client, session):
    await register(session, "H-1", [1])
    headers = await department_headers(session, "civil_affairs")
    response = await client.post(BATCHES, json={"records": [record(1)]}, headers=headers)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["record_count"] == 1
    assert (receipt["accepted"], receipt["duplicates"], receipt["rejected"]) == (1, 0, 0)
    [entry] = receipt["records"]
    assert entry["status"] == "accepted" and entry["index"] == 0
    [row] = await _rows(
        session,
        "SELECT status, household_id, region_code, county_code, id_masked, name_mismatch"
        " FROM warnings WHERE warning_id = :id",
        id=entry["warning_id"],
    )
    assert row == (
        "matched",
        "H-1",
        VILLAGE,
        "610326",
        person(1)[:6] + "********" + person(1)[14:],
        False,
    )
    [(event_type, payload)] = await _rows(
        session,
        "SELECT type, payload FROM events WHERE aggregate_type = 'warning' AND aggregate_id = :id",
        id=entry["warning_id"],
    )
    assert event_type == "warning.accepted"
    assert payload["household_id"] == "H-1" and payload["county_code"] == "610326"
    assert person(1) not in orjson.dumps(payload).decode()


async def test_unknown_person_goes_to_the_unmatched_queue(client, session):
    headers = await department_headers(session, "civil_affairs")
    response = await client.post(BATCHES, json={"records": [record(7)]}, headers=headers)
    assert response.status_code == 201
    [(status, household_id, county)] = await _rows(
        session, "SELECT status, household_id, county_code FROM warnings"
    )
    assert (status, household_id, county) == ("unmatched", None, "610326")
    [(event_type,)] = await _rows(
        session, "SELECT type FROM events WHERE aggregate_type = 'warning'"
    )
    assert event_type == "warning.unmatched"


async def test_name_differing_from_the_registry_is_flagged_not_rejected(client, session):
    await register(session, "H-1", [1], name="李四")
    headers = await department_headers(session, "civil_affairs")
    response = await client.post(BATCHES, json={"records": [record(1)]}, headers=headers)
    assert response.json()["accepted"] == 1
    [(mismatch, status)] = await _rows(session, "SELECT name_mismatch, status FROM warnings")
    assert mismatch is True and status == "matched"


@pytest.mark.parametrize(
    ("category", "amount", "status"),
    [
        ("general", 18684, "below_threshold"),
        ("general", 18684.01, "matched"),
        ("poverty_alleviated", 9342, "below_threshold"),
        ("poverty_alleviated", 9342.01, "matched"),
    ],
)
async def test_medical_expense_is_a_clue_only_above_the_years_threshold(
    client, session, category, amount, status
):
    await register(session, "H-1", [1], category=category)
    headers = await department_headers(session, "medical_insurance")
    rec = record(1, "high_medical_expense", amount_yuan=amount)
    response = await client.post(BATCHES, json={"records": [rec]}, headers=headers)
    assert response.json()["accepted"] == 1
    [(stored,)] = await _rows(session, "SELECT status FROM warnings")
    assert stored == status
    types = [
        t
        for (t,) in await _rows(session, "SELECT type FROM events WHERE aggregate_type = 'warning'")
    ]
    assert types == ["warning.accepted" if status == "matched" else "warning.below_threshold"]


async def test_event_type_pushed_more_than_seven_days_late_is_accepted_and_marked_late(
    client, session
):
    await register(session, "H-1", [1, 2])
    headers = await department_headers(session, "emergency_management")
    records = [
        record(1, "disaster", event_date="2026-11-16"),  # 7 days before: on time
        record(2, "disaster", event_date="2026-11-15"),  # 8 days before: late
    ]
    response = await client.post(BATCHES, json={"records": records}, headers=headers)
    assert response.json()["accepted"] == 2
    rows = await _rows(session, "SELECT source_record_id, late FROM warnings ORDER BY 1")
    assert rows == [("R-1", False), ("R-2", True)]


async def test_same_record_pushed_again_is_a_duplicate_pointing_at_the_first(client, session):
    headers = await department_headers(session, "civil_affairs")
    first = (await client.post(BATCHES, json={"records": [record(1)]}, headers=headers)).json()
    second = (
        await client.post(BATCHES, json={"records": [record(1), record(2)]}, headers=headers)
    ).json()
    assert (second["accepted"], second["duplicates"]) == (1, 1)
    assert second["records"][0]["status"] == "duplicate"
    assert second["records"][0]["warning_id"] == first["records"][0]["warning_id"]
    [(count,)] = await _rows(session, "SELECT count(*) FROM warnings")
    assert count == 2


async def test_duplicate_within_a_batch_rejects_the_later_record(client, session):
    headers = await department_headers(session, "civil_affairs")
    records = [record(1), record(2), {**record(3), "source_record_id": "R-1"}]
    receipt = (await client.post(BATCHES, json={"records": records}, headers=headers)).json()
    assert (receipt["accepted"], receipt["rejected"]) == (2, 1)
    rejected = receipt["records"][2]
    assert rejected["status"] == "rejected"
    assert [e["code"] for e in rejected["errors"]] == ["duplicate_in_batch"]


async def test_department_may_push_only_its_own_types(client, session):
    headers = await department_headers(session, "water")
    receipt = (await client.post(BATCHES, json={"records": [record(1)]}, headers=headers)).json()
    assert receipt["rejected"] == 1
    assert receipt["records"][0]["errors"][0]["code"] == "warning_type_not_allowed"
    [(count,)] = await _rows(session, "SELECT count(*) FROM warnings")
    assert count == 0


async def test_atomic_batch_with_a_bad_record_stores_nothing(client, session):
    headers = await department_headers(session, "civil_affairs")
    bad = {**record(2), "id_number": "123"}
    response = await client.post(
        BATCHES, json={"records": [record(1), bad], "atomic": True}, headers=headers
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "records[1].id_number"
    assert problem["errors"][0]["code"] == "invalid_id_number"
    for table in ("warnings", "warning_sources", "ingest_batches", "feed_pushes"):
        [(count,)] = await _rows(session, f"SELECT count(*) FROM {table}")
        assert count == 0, table


async def test_zero_report_counts_as_a_push_of_every_periodic_type(client, session):
    headers = await department_headers(session, "civil_affairs")
    response = await client.post(
        BATCHES, json={"records": [], "period_end": "2026-11-15"}, headers=headers
    )
    assert response.status_code == 201
    assert response.json()["record_count"] == 0
    rows = await _rows(session, "SELECT warning_type, period_end::text FROM feed_pushes ORDER BY 1")
    assert rows == [
        (t, "2026-11-15")
        for t in sorted(
            ["dibao", "tekun", "temporary_assistance", "lonely_elderly", "left_behind_child"]
        )
    ]


async def test_idempotency_key_replays_the_first_receipt(client, session):
    headers = {**await department_headers(session, "civil_affairs"), "Idempotency-Key": "k-1"}
    body = {"records": [record(1)]}
    first = await client.post(BATCHES, json=body, headers=headers)
    again = await client.post(BATCHES, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    [(count,)] = await _rows(session, "SELECT count(*) FROM ingest_batches")
    assert count == 1


async def test_idempotency_key_with_another_body_is_refused(client, session):
    headers = {**await department_headers(session, "civil_affairs"), "Idempotency-Key": "k-1"}
    await client.post(BATCHES, json={"records": [record(1)]}, headers=headers)
    response = await client.post(BATCHES, json={"records": [record(2)]}, headers=headers)
    assert response.status_code == 422
    assert response.json()["type"].endswith("idempotency_key_reused")
    [(count,)] = await _rows(session, "SELECT count(*) FROM warnings")
    assert count == 1


async def test_receipt_can_be_read_back_by_the_department_and_staff(client, session):
    headers = await department_headers(session, "civil_affairs")
    receipt = (await client.post(BATCHES, json={"records": [record(1)]}, headers=headers)).json()
    again = await client.get(f"{BATCHES}/{receipt['batch_id']}", headers=headers)
    assert again.status_code == 200
    assert again.json()["records"] == receipt["records"]
    other = await department_headers(session, "water")
    assert (await client.get(f"{BATCHES}/{receipt['batch_id']}", headers=other)).status_code == 404


async def test_duplicates_are_found_across_chunks_of_a_big_batch(client, session, monkeypatch):
    from services.warning_ingest.batches import storing as batches

    monkeypatch.setattr(batches, "CHUNK_RECORDS", 2)
    headers = await department_headers(session, "civil_affairs")
    records = [
        record(1),
        {**record(2), "id_number": "bad"},  # rejected, but its id still counts first
        record(3),
        {**record(4), "source_record_id": "R-1"},  # a valid record's id, two chunks later
        {**record(5), "source_record_id": "R-2"},  # a rejected record's id
        {**record(6), "source_record_id": "R-3", "id_number": "bad"},  # bad and a duplicate
        record(7),
    ]
    receipt = (await client.post(BATCHES, json={"records": records}, headers=headers)).json()
    statuses = [(r["index"], r["status"]) for r in receipt["records"]]
    assert statuses == [
        (0, "accepted"),
        (1, "rejected"),
        (2, "accepted"),
        (3, "rejected"),
        (4, "rejected"),
        (5, "rejected"),
        (6, "accepted"),
    ]
    codes = {r["index"]: [e["code"] for e in r.get("errors") or []] for r in receipt["records"]}
    assert codes[3] == ["duplicate_in_batch"]
    assert codes[4] == ["duplicate_in_batch"]
    assert codes[5] == ["invalid_id_number", "duplicate_in_batch"]
    assert (receipt["accepted"], receipt["duplicates"], receipt["rejected"]) == (3, 0, 4)
    [(count,)] = await _rows(session, "SELECT count(*) FROM warnings")
    assert count == 3


async def test_atomic_batch_fails_whole_even_when_the_bad_record_is_in_a_later_chunk(
    client, session, monkeypatch
):
    from services.warning_ingest.batches import storing as batches

    monkeypatch.setattr(batches, "CHUNK_RECORDS", 2)
    headers = await department_headers(session, "civil_affairs")
    records = [record(1), record(2), record(3), {**record(4), "id_number": "bad"}, record(5)]
    response = await client.post(
        BATCHES, json={"records": records, "atomic": True}, headers=headers
    )
    assert response.status_code == 422
    assert [r["index"] for r in response.json()["records"]] == [3]
    for table in ("warnings", "warning_sources", "events"):
        [(count,)] = await _rows(session, f"SELECT count(*) FROM {table}")
        assert count == 0, table


async def test_idempotency_key_still_in_flight_is_refused_with_409(fresh_db):
    import uuid

    from services.warning_ingest.batches.formats import read_push
    from services.warning_ingest.batches.storing import IdempotencyKeyInFlight, replay

    async def body():
        yield orjson.dumps({"records": []})

    client_id = uuid.uuid4()
    async with fresh_db.transaction() as first:
        # The first request holds the key for as long as its transaction runs.
        push = await read_push("application/json", body())
        assert await replay(first, client_id=client_id, key="k-1", push=push) is None
        async with fresh_db.transaction() as second:
            push = await read_push("application/json", body())
            with pytest.raises(IdempotencyKeyInFlight) as refused:
                await replay(second, client_id=client_id, key="k-1", push=push)
            assert refused.value.status == 409
            assert refused.value.headers["Retry-After"]
            # Another client's key of the same name is not held.
            push = await read_push("application/json", body())
            assert await replay(second, client_id=uuid.uuid4(), key="k-1", push=push) is None
