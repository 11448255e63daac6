"""`POST /campaigns/{id}/screenings`: JSON, CSV and XLSX village forms, their
receipts, the cases they open or join, replacements and scope."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from shared import clock
from tests.services.identification.id_helpers import open_case
from tests.services.identification.screening_helpers import (
    CAMPAIGNS,
    CSV,
    DURING,
    TOWN,
    VILLAGE,
    XLSX,
    create_campaign,
    csv_body,
    load_registry,
    screening,
    staff_headers,
    upload,
    xlsx_body,
)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(DURING):
        yield


async def _rows(session, sql: str, **params: Any) -> list[Any]:
    return list((await session.execute(text(sql), params)).all())


async def _setup(client, session) -> tuple[str, dict[str, str]]:
    await load_registry(session)
    campaign = await create_campaign(client, session)
    return campaign["campaign_id"], await staff_headers(session, "county_staff")


async def _nothing_written(session) -> None:
    assert await _rows(session, "SELECT count(*) FROM screenings") == [(0,)]
    assert await _rows(session, "SELECT count(*) FROM cases") == [(0,)]
    written = await _rows(
        session,
        "SELECT count(*) FROM events WHERE type IN ('screening.recorded', 'case.opened')",
    )
    assert written == [(0,)]
    audits = await _rows(
        session, "SELECT count(*) FROM audit_log WHERE action = 'screening.recorded'"
    )
    assert audits == [(0,)]


def _statuses(receipt: dict[str, Any]) -> list[tuple[int, str | None, str, list[str]]]:
    return [
        (r["index"], r["household_id"], r["status"], [e["code"] for e in r["errors"]])
        for r in receipt["records"]
    ]


async def test_json_upload_opens_cases_for_yes_and_unsure_and_none_for_no(client, session):
    campaign_id, county = await _setup(client, session)
    records = [
        screening("H-1", needs_inclusion="no"),
        screening("H-2", needs_inclusion="yes", screened_on="2026-05-02"),
        screening("H-3", needs_inclusion="unsure", screened_on="2026-05-07"),
    ]
    response = await upload(client, campaign_id, {"records": records}, county)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert {k: receipt[k] for k in ("received", "accepted", "replaced", "rejected")} == {
        "received": 3,
        "accepted": 3,
        "replaced": 0,
        "rejected": 0,
    }
    assert (receipt["cases_opened"], receipt["cases_joined"]) == (2, 0)
    assert _statuses(receipt) == [
        (0, "H-1", "accepted", []),
        (1, "H-2", "accepted", []),
        (2, "H-3", "accepted", []),
    ]
    assert receipt["records"][0]["case_id"] is None
    cases = await _rows(
        session,
        "SELECT household_id, source, opened_on::text, deadline::text, state, case_id::text"
        " FROM cases ORDER BY household_id",
    )
    # Found on the screening date; decided within 15 days of it.
    assert [c[:5] for c in cases] == [
        ("H-2", "cadre_screening", "2026-05-02", "2026-05-17", "open"),
        ("H-3", "cadre_screening", "2026-05-07", "2026-05-22", "open"),
    ]
    by_household = {c[0]: c[5] for c in cases}
    assert receipt["records"][1]["case_id"] == by_household["H-2"]
    stored = await _rows(
        session,
        "SELECT household_id, case_id::text, region_code, replaced FROM screenings"
        " ORDER BY household_id",
    )
    assert stored == [
        ("H-1", None, VILLAGE, 0),
        ("H-2", by_household["H-2"], VILLAGE, 0),
        ("H-3", by_household["H-3"], VILLAGE, 0),
    ]
    opened = await _rows(
        session, "SELECT payload FROM events WHERE type = 'case.opened' ORDER BY aggregate_id"
    )
    assert sorted(p["household_id"] for (p,) in opened) == ["H-2", "H-3"]
    payload = next(p for (p,) in opened if p["household_id"] == "H-2")
    assert payload == {
        "case_id": by_household["H-2"],
        "household_id": "H-2",
        "county_code": "610326",
        "region_code": VILLAGE,
        "source": "cadre_screening",
        "opened_on": "2026-05-02",
        "deadline": "2026-05-17",
        "warning_ids": [],
    }
    [(recorded,)] = await _rows(
        session, "SELECT payload FROM events WHERE type = 'screening.recorded'"
    )
    assert recorded == {
        "campaign_id": campaign_id,
        "accepted": 3,
        "replaced": 0,
        "rejected": 0,
        "cases_opened": 2,
        "cases_joined": 0,
    }
    audits = await _rows(
        session, "SELECT count(*) FROM audit_log WHERE action = 'screening.recorded'"
    )
    assert audits == [(1,)]


def _form_with_bad_rows() -> list[dict[str, Any]]:
    return [
        screening("H-1", screener="王五"),
        screening("H-999"),  # not in the registry
        screening("H-2", housing="palace"),  # not a code
        screening("H-3", screened_on="2025-12-30"),  # before the campaign's year
        screening("H-4", needs_inclusion="yes", uninsured_members=2, insured="partly"),
    ]


def _assert_bad_rows_rejected(receipt: dict[str, Any]) -> None:
    assert _statuses(receipt) == [
        (0, "H-1", "accepted", []),
        (1, "H-999", "rejected", ["unknown_household"]),
        (2, "H-2", "rejected", ["invalid_code"]),
        (3, "H-3", "rejected", ["outside_campaign"]),
        (4, "H-4", "accepted", []),
    ]
    assert (receipt["received"], receipt["accepted"], receipt["rejected"]) == (5, 2, 3)
    assert receipt["cases_opened"] == 1


@pytest.mark.parametrize(
    ("build", "content_type"),
    [(csv_body, CSV), (xlsx_body, XLSX)],
    ids=["csv", "xlsx"],
)
async def test_village_form_stores_good_rows_and_rejects_bad_ones_in_place(
    client, session, build, content_type
):
    campaign_id, _ = await _setup(client, session)
    township = await staff_headers(session, "township_staff", region=TOWN)
    response = await upload(
        client, campaign_id, build(_form_with_bad_rows()), township, content_type
    )
    assert response.status_code == 201, response.text
    _assert_bad_rows_rejected(response.json())
    stored = await _rows(
        session,
        "SELECT household_id, screened_on::text, screener, insured, uninsured_members,"
        " rigid_expenditure, needs_inclusion FROM screenings ORDER BY household_id",
    )
    assert stored == [
        ("H-1", "2026-05-06", "王五", "all", 0, False, "no"),
        ("H-4", "2026-05-06", "李四", "partly", 2, False, "yes"),
    ]


async def test_csv_in_gb18030_with_a_byte_order_mark_free_header_is_read(client, session):
    campaign_id, county = await _setup(client, session)
    body = csv_body([screening("H-1", screener="赵六", notes="外出务工")], encoding="gb18030")
    response = await upload(client, campaign_id, body, county, f"{CSV}; charset=gb18030")
    assert response.status_code == 201, response.text
    assert await _rows(session, "SELECT screener, notes FROM screenings") == [("赵六", "外出务工")]


async def test_csv_with_a_byte_order_mark_and_rigid_expenditure_is_read(client, session):
    campaign_id, county = await _setup(client, session)
    record = screening("H-1", rigid_expenditure=True, rigid_expenditure_reason="住院")
    body = b"\xef\xbb\xbf" + csv_body([record])
    response = await upload(client, campaign_id, body, county)
    assert response.status_code == 201, response.text
    stored = await _rows(
        session, "SELECT rigid_expenditure, rigid_expenditure_reason FROM screenings"
    )
    assert stored == [(True, "住院")]


async def test_yes_for_a_household_with_an_open_case_joins_it(client, session):
    campaign_id, county = await _setup(client, session)
    case = await open_case(client, session, "H-1", found_on=clock.today())
    records = [screening("H-1", needs_inclusion="yes"), screening("H-2", needs_inclusion="unsure")]
    receipt = (await upload(client, campaign_id, {"records": records}, county)).json()
    assert (receipt["cases_opened"], receipt["cases_joined"]) == (1, 1)
    assert receipt["records"][0]["case_id"] == case["case_id"]
    assert await _rows(session, "SELECT count(*) FROM cases WHERE household_id = 'H-1'") == [(1,)]
    [(stored,)] = await _rows(
        session, "SELECT case_id::text FROM screenings WHERE household_id = 'H-1'"
    )
    assert stored == case["case_id"]


async def test_second_record_for_a_household_replaces_the_first(client, session):
    campaign_id, county = await _setup(client, session)
    first = {"records": [screening("H-1", housing="unsafe")]}
    assert (await upload(client, campaign_id, first, county)).json()["accepted"] == 1
    second = {"records": [screening("H-1", screened_on="2026-05-07", housing="own_safe")]}
    receipt = (await upload(client, campaign_id, second, county)).json()
    assert (receipt["accepted"], receipt["replaced"]) == (0, 1)
    assert _statuses(receipt) == [(0, "H-1", "replaced", [])]
    stored = await _rows(session, "SELECT screened_on::text, housing, replaced FROM screenings")
    assert stored == [("2026-05-07", "own_safe", 1)]


async def test_second_record_for_a_household_in_one_upload_is_rejected(client, session):
    campaign_id, county = await _setup(client, session)
    records = [screening("H-1"), screening("H-2"), screening("H-1", housing="unsafe")]
    receipt = (await upload(client, campaign_id, {"records": records}, county)).json()
    assert _statuses(receipt)[2] == (2, "H-1", "rejected", ["duplicate_in_upload"])
    assert await _rows(session, "SELECT housing FROM screenings WHERE household_id = 'H-1'") == [
        ("own_safe",)
    ]


async def test_village_staff_cannot_screen_another_villages_household(client, session):
    campaign_id, _ = await _setup(client, session)
    village = await staff_headers(session, "village_staff", region=VILLAGE)
    records = [screening("H-1"), screening("H-4"), screening("H-998")]
    receipt = (await upload(client, campaign_id, {"records": records}, village)).json()
    assert _statuses(receipt) == [
        (0, "H-1", "accepted", []),
        (1, "H-4", "rejected", ["unknown_household"]),
        (2, "H-998", "rejected", ["unknown_household"]),
    ]
    # The same words for a household elsewhere as for one that does not exist.
    assert receipt["records"][1]["errors"] == receipt["records"][2]["errors"]
    alone = await upload(client, campaign_id, {"records": [screening("H-4")]}, village)
    assert alone.status_code == 404
    assert await _rows(session, "SELECT household_id FROM screenings") == [("H-1",)]


async def test_campaign_outside_the_uploaders_scope_is_404(client, session):
    await load_registry(session)
    other_town = await create_campaign(client, session, region="610326101000")
    village = await staff_headers(session, "village_staff", region=VILLAGE)
    response = await upload(
        client, other_town["campaign_id"], {"records": [screening("H-6")]}, village
    )
    assert response.status_code == 404


async def test_viewers_are_403_and_callers_without_a_token_401(client, session):
    campaign_id, _ = await _setup(client, session)
    viewer = await staff_headers(session, "viewer")
    body = {"records": [screening("H-1")]}
    assert (await upload(client, campaign_id, body, viewer)).status_code == 403
    assert (await upload(client, campaign_id, body, {})).status_code == 401
    await _nothing_written(session)


async def test_upload_with_every_record_rejected_is_201_and_writes_nothing(client, session):
    campaign_id, county = await _setup(client, session)
    records = [screening("H-1", needs_inclusion="maybe"), screening("H-999", needs_inclusion="yes")]
    response = await upload(client, campaign_id, {"records": records}, county)
    assert response.status_code == 201
    assert (response.json()["accepted"], response.json()["rejected"]) == (0, 2)
    await _nothing_written(session)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (csv_body([screening("H-1")]) + b'"H-2,2026-05-06\r\n', CSV, 400),  # unclosed quote
        (b"household_id,screened_on\r\n\xff\xfe,x\r\n", CSV, 400),  # not UTF-8
        (b"PK\x03\x04 not really a workbook", XLSX, 400),
        (b'{"records": [', "application/json", 400),
        (csv_body([screening("H-1")]), "text/plain", 400),
        (b"household_id,colour\r\nH-1,red\r\n", CSV, 422),  # a header of unknown fields
        (b'{"records": []}', "application/json", 422),
    ],
    ids=["csv-quote", "csv-encoding", "xlsx", "json", "content-type", "csv-header", "empty"],
)
async def test_unreadable_body_is_refused_whole_and_writes_nothing(
    client, session, body, content_type, status
):
    campaign_id, county = await _setup(client, session)
    response = await upload(client, campaign_id, body, county, content_type)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    await _nothing_written(session)


async def test_body_declared_over_the_bulk_limit_is_413(client, session):
    campaign_id, county = await _setup(client, session)
    headers = {**county, "Content-Type": CSV, "Content-Length": str(65 * 1024 * 1024)}
    response = await client.post(
        f"{CAMPAIGNS}/{campaign_id}/screenings", content=b"x", headers=headers
    )
    assert response.status_code == 413
    await _nothing_written(session)


async def test_screening_dated_after_today_is_rejected(client, session):
    campaign_id, county = await _setup(client, session)
    records = [screening("H-1", screened_on="2026-05-09")]  # the clock says 8 May
    receipt = (await upload(client, campaign_id, {"records": records}, county)).json()
    assert _statuses(receipt) == [(0, "H-1", "rejected", ["date_in_future"])]
