"""Campaigns: create, list, read, mark phases done, lateness and the catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from shared import clock
from tests.services.identification.screening_helpers import (
    CAMPAIGNS,
    COUNTY,
    DURING,
    OTHER_TOWN,
    OTHER_TOWN_VILLAGE,
    PHASES,
    TOWN,
    VILLAGE,
    create_campaign,
    load_registry,
    screening,
    staff_headers,
    upload,
)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(DURING):
        yield


async def _rows(session, sql: str, **params: Any) -> list[Any]:
    return list((await session.execute(text(sql), params)).all())


def _day(year: int, month: int, day: int) -> datetime:
    """10:00 in Shanghai on that day."""
    return datetime(year, month, day, 2, 0, tzinfo=UTC)


async def test_created_campaign_lists_its_phases_none_late_before_their_dates(client, session):
    await load_registry(session)
    campaign = await create_campaign(client, session)
    assert campaign["region_code"] == COUNTY and campaign["year"] == 2026
    assert campaign["starts_on"] == "2026-01-01"
    assert campaign["ends_on"] == "2026-06-12"
    assert [p["kind"] for p in campaign["phases"]] == [p["kind"] for p in PHASES]
    # Mobilisation was due on 30 April; on 8 May it is late, nothing else is.
    assert [p["late"] for p in campaign["phases"]] == [True, False, False, False, False, False]
    assert campaign["late"] is True
    assert all(p["done_on"] is None for p in campaign["phases"])
    assert campaign["reported_figures"] == {}
    events = await _rows(
        session, "SELECT type, payload FROM events WHERE aggregate_type = 'campaign'"
    )
    assert events == [
        (
            "campaign.created",
            {
                "campaign_id": campaign["campaign_id"],
                "county_code": "610326",
                "region_code": COUNTY,
                "year": 2026,
            },
        )
    ]
    audits = await _rows(session, "SELECT action FROM audit_log WHERE target_type = 'campaign'")
    assert audits == [("campaign.created",)]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"region_code": "610326999000"}, "invalid_region_code"),  # not in the registry
        ({"region_code": "610300000000"}, "invalid_region_code"),  # a city: above a county
        ({"region_code": "6103"}, "invalid_region_code"),
        ({"phases": []}, "missing_field"),
        ({"phases": [{"name": "x", "kind": "party", "due_on": "2026-05-01"}]}, "invalid_code"),
        (
            {
                "phases": [
                    {"name": "a", "due_on": "2026-05-21"},
                    {"name": "b", "due_on": "2026-05-20"},
                ]
            },
            "phases_out_of_order",
        ),
        ({"starts_on": "2025-12-01"}, "invalid_date"),
    ],
)
async def test_campaign_breaking_a_rule_is_422_and_stores_nothing(client, session, changes, code):
    await load_registry(session)
    body = {"name": "排查", "region_code": COUNTY, "year": 2026, "phases": PHASES, **changes}
    headers = await staff_headers(session, "county_staff")
    response = await client.post(CAMPAIGNS, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert code in [e["code"] for e in response.json()["errors"]]
    assert await _rows(session, "SELECT count(*) FROM campaigns") == [(0,)]


async def test_campaign_of_a_region_outside_the_scope_is_404(client, session):
    await load_registry(session)
    headers = await staff_headers(session, "county_staff", region=TOWN)
    response = await client.post(
        CAMPAIGNS,
        json={"name": "x", "region_code": OTHER_TOWN, "year": 2026, "phases": PHASES},
        headers=headers,
    )
    assert response.status_code == 404


async def test_only_county_staff_create_and_tokens_are_required(client, session):
    body = {"name": "x", "region_code": COUNTY, "year": 2026, "phases": PHASES}
    township = await staff_headers(session, "township_staff", region=TOWN)
    viewer = await staff_headers(session, "viewer")
    assert (await client.post(CAMPAIGNS, json=body, headers=township)).status_code == 403
    assert (await client.get(CAMPAIGNS, headers=viewer)).status_code == 403
    assert (await client.post(CAMPAIGNS, json=body)).status_code == 401
    assert (await client.get(CAMPAIGNS)).status_code == 401


async def test_list_shows_campaigns_overlapping_the_scope_newest_first(client, session):
    await load_registry(session)
    county = await create_campaign(client, session)
    with clock.frozen_at(_day(2026, 5, 9)):
        town = await create_campaign(client, session, region=TOWN, name="首善街道排查")
    with clock.frozen_at(_day(2026, 5, 10)):
        other = await create_campaign(client, session, region=OTHER_TOWN, name="横渠镇排查")
    village_staff = await staff_headers(session, "village_staff", region=VILLAGE)
    page = (await client.get(CAMPAIGNS, headers=village_staff)).json()
    assert [c["campaign_id"] for c in page["items"]] == [town["campaign_id"], county["campaign_id"]]
    county_staff = await staff_headers(session, "county_staff")
    first = (await client.get(CAMPAIGNS, params={"limit": 2}, headers=county_staff)).json()
    assert [c["campaign_id"] for c in first["items"]] == [other["campaign_id"], town["campaign_id"]]
    second = (
        await client.get(
            CAMPAIGNS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=county_staff
        )
    ).json()
    assert [c["campaign_id"] for c in second["items"]] == [county["campaign_id"]]
    assert second["next_cursor"] is None


async def test_campaign_is_read_by_staff_it_concerns_and_404_for_others(client, session):
    await load_registry(session)
    town = await create_campaign(client, session, region=TOWN)
    url = f"{CAMPAIGNS}/{town['campaign_id']}"
    inside = await staff_headers(session, "village_staff", region=VILLAGE)
    outside = await staff_headers(session, "village_staff", region=OTHER_TOWN_VILLAGE)
    assert (await client.get(url, headers=inside)).json()["campaign_id"] == town["campaign_id"]
    assert (await client.get(url, headers=outside)).status_code == 404
    unknown = f"{CAMPAIGNS}/00000000-0000-0000-0000-000000000000"
    assert (await client.get(unknown, headers=inside)).status_code == 404


async def test_catalog_lists_every_code_with_its_label(client, session):
    viewer = await staff_headers(session, "viewer")
    response = await client.get(f"{CAMPAIGNS}/catalog", headers=viewer)
    assert response.status_code == 200
    catalog = response.json()
    assert catalog["fields"]["needs_inclusion"] == [
        {"code": "yes", "label": "需要纳入监测"},
        {"code": "unsure", "label": "不确定，待研判"},
        {"code": "no", "label": "不需要纳入"},
    ]
    assert [c["code"] for c in catalog["fields"]["insured"]] == ["all", "partly", "none"]
    assert set(catalog["fields"]) == {
        "residence",
        "housing",
        "schooling",
        "drinking_water",
        "insured",
        "income_band",
        "civil_affairs_support",
        "needs_inclusion",
    }
    assert [p["code"] for p in catalog["problem_types"]] == [
        "guarantees_water",
        "policy_not_delivered",
        "income_not_stable",
        "should_include_off_system",
        "grid_worker_management",
        "data_quality",
        "petitions_opinion",
        "other",
    ]
    assert catalog["phase_kinds"][1] == {"code": "household_screening", "label": "入户排查"}
    assert catalog["record_fields"][:3] == ["household_id", "screened_on", "screener"]
    assert len(catalog["record_fields"]) == 15
    assert (await client.get(f"{CAMPAIGNS}/catalog")).status_code == 401


async def test_phases_turn_late_past_their_due_dates_until_their_work_is_done(client, session):
    await load_registry(session)
    campaign = await create_campaign(client, session)
    url = f"{CAMPAIGNS}/{campaign['campaign_id']}"
    county = await staff_headers(session, "county_staff")
    with clock.frozen_at(_day(2026, 5, 22)):
        seen = (await client.get(url, headers=county)).json()
        # Mobilisation (30 April) and household screening (21 May) are overdue.
        assert [p["late"] for p in seen["phases"]] == [True, True, False, False, False, False]
        marked = await client.patch(
            url, json={"phases": [{"index": 0, "done_on": "2026-04-28"}]}, headers=county
        )
        assert marked.status_code == 200, marked.text
        assert marked.json()["phases"][0] == {
            "name": "动员部署",
            "kind": "mobilisation",
            "due_on": "2026-04-30",
            "done_on": "2026-04-28",
            "late": False,
        }
        # Six of seven households screened: not done yet.
        records = [screening(f"H-{n}", screened_on=f"2026-05-{10 + n}") for n in range(1, 7)]
        assert (
            await upload(client, campaign["campaign_id"], {"records": records}, county)
        ).status_code == 201
        assert (await client.get(url, headers=county)).json()["phases"][1]["late"] is True
        last = {"records": [screening("H-7", screened_on="2026-05-20")]}
        assert (await upload(client, campaign["campaign_id"], last, county)).status_code == 201
        seen = (await client.get(url, headers=county)).json()
        assert seen["phases"][1]["done_on"] == "2026-05-20"
        assert [p["late"] for p in seen["phases"]] == [False] * 6
        assert seen["late"] is False
    with clock.frozen_at(_day(2026, 5, 27)):
        seen = (await client.get(url, headers=county)).json()
        assert [p["late"] for p in seen["phases"]] == [False, False, True, False, False, False]


async def _sample(session, campaign_id: str, kind: str, checked: dict[str, str | None]) -> None:
    spot_check_id = (
        await session.execute(
            text(
                "INSERT INTO spot_checks (spot_check_id, county_code, campaign_id, kind, seed,"
                " created_by) VALUES (gen_random_uuid(), '610326', :campaign_id, :kind, 7, 'test')"
                " RETURNING spot_check_id"
            ),
            {"campaign_id": campaign_id, "kind": kind},
        )
    ).scalar_one()
    for household_id, checked_at in checked.items():
        await session.execute(
            text(
                "INSERT INTO spot_check_households (spot_check_id, county_code, household_id,"
                " region_code, checker_record, checked_by, checked_at)"
                " VALUES (:id, '610326', :household_id, :region, CAST(:record AS jsonb),"
                " :by, :at)"
            ),
            {
                "id": spot_check_id,
                "household_id": household_id,
                "region": VILLAGE,
                "record": None if checked_at is None else '{"housing": "own_safe"}',
                "by": None if checked_at is None else "user:checker",
                "at": None if checked_at is None else datetime.fromisoformat(checked_at),
            },
        )


async def test_cross_screening_is_done_once_a_cross_sample_is_fully_checked(client, session):
    await load_registry(session)
    campaign = await create_campaign(client, session)
    url = f"{CAMPAIGNS}/{campaign['campaign_id']}"
    county = await staff_headers(session, "county_staff")
    # A spot sample fully checked does not finish the cross-screening phase.
    await _sample(session, campaign["campaign_id"], "spot", {"H-1": "2026-05-20T03:00:00Z"})
    await _sample(
        session,
        campaign["campaign_id"],
        "cross",
        {"H-1": "2026-05-24T03:00:00Z", "H-2": None},
    )
    with clock.frozen_at(_day(2026, 5, 27)):
        phases = (await client.get(url, headers=county)).json()["phases"]
        assert (phases[2]["late"], phases[2]["done_on"]) == (True, None)
        assert (phases[3]["late"], phases[3]["done_on"]) == (False, "2026-05-20")
        # 23:30 UTC on 25 May is 26 May in Shanghai.
        await session.execute(
            text(
                "UPDATE spot_check_households SET checker_record = '{}'::jsonb,"
                " checked_at = '2026-05-25T23:30:00Z' WHERE household_id = 'H-2'"
            )
        )
        phases = (await client.get(url, headers=county)).json()["phases"]
        assert (phases[2]["late"], phases[2]["done_on"]) == (False, "2026-05-26")


async def test_patch_enters_figures_and_refuses_what_it_cannot_mark(client, session):
    await load_registry(session)
    campaign = await create_campaign(client, session)
    url = f"{CAMPAIGNS}/{campaign['campaign_id']}"
    county = await staff_headers(session, "county_staff")
    figures = {"reported_figures": {"data_items_corrected": 12}}
    assert (await client.patch(url, json=figures, headers=county)).status_code == 200
    more = {"reported_figures": {"staff_trained": 40}}
    updated = (await client.patch(url, json=more, headers=county)).json()
    assert updated["reported_figures"] == {"data_items_corrected": 12, "staff_trained": 40}
    for phases, code in [
        ([{"index": 1, "done_on": "2026-05-01"}], "phase_computed"),
        ([{"index": 6, "done_on": "2026-05-01"}], "invalid_value"),
        ([{"index": 4, "done_on": "2026-05-09"}], "date_in_future"),
    ]:
        response = await client.patch(url, json={"phases": phases}, headers=county)
        assert response.status_code == 422, response.text
        assert [e["code"] for e in response.json()["errors"]] == [code]
    township = await staff_headers(session, "township_staff", region=TOWN)
    assert (await client.patch(url, json=more, headers=township)).status_code == 403
    audits = await _rows(
        session, "SELECT action FROM audit_log WHERE target_type = 'campaign' ORDER BY id"
    )
    assert audits == [("campaign.created",), ("campaign.updated",), ("campaign.updated",)]
