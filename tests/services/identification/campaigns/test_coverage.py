"""Coverage (不落一户): households screened against the live registry per town
and village, by category, and the list of households not screened yet.

Hand-worked against the registry of `screening_helpers` with H-1, H-3, H-4
and H-6 screened, H-3 and H-6 monitored, and H-5 an object whose risk was
eliminated (so not monitored):

    town A   VILLAGE    H-1 g  s | H-2 g    | H-3 p  s  m
             VILLAGE_B  H-4 p  s | H-5 g (eliminated)
    other    OTHER_V    H-6 g  s  m | H-7 p
             EMPTY      -
"""

from __future__ import annotations

from typing import Any

import pytest

from shared import clock
from tests.services.identification.screening_helpers import (
    CAMPAIGNS,
    COUNTY,
    DURING,
    EMPTY_VILLAGE,
    OTHER_TOWN,
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
    VILLAGE_B,
    create_campaign,
    load_registry,
    monitor,
    screening,
    staff_headers,
    upload,
)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(DURING):
        yield


async def _campaign(client, session, region: str = COUNTY) -> tuple[str, dict[str, str]]:
    await load_registry(session)
    await monitor(session, "H-3")
    await monitor(session, "H-6")
    await monitor(session, "H-5", status="risk_eliminated")
    campaign = await create_campaign(client, session, region=region)
    county = await staff_headers(session, "county_staff")
    records = {"records": [screening(h) for h in ("H-1", "H-3", "H-4", "H-6")]}
    if region != COUNTY:
        records = {"records": [screening(h) for h in ("H-1", "H-3", "H-4")]}
    response = await upload(client, campaign["campaign_id"], records, county)
    assert response.status_code == 201, response.text
    return campaign["campaign_id"], county


def _row(code: str, name: str, g: tuple[int, int], p: tuple[int, int], m: tuple[int, int]) -> dict:
    return {
        "region_code": code,
        "region_name": name,
        "households": g[0] + p[0],
        "screened": g[1] + p[1],
        "by_category": {
            "general": {"households": g[0], "screened": g[1]},
            "poverty_alleviated": {"households": p[0], "screened": p[1]},
            "monitored": {"households": m[0], "screened": m[1]},
        },
    }


TOWN_ROWS = [
    _row(TOWN, "首善街道", g=(3, 1), p=(2, 2), m=(1, 1)),
    _row(OTHER_TOWN, "横渠镇", g=(1, 1), p=(1, 0), m=(1, 1)),
]
VILLAGE_ROWS = [
    _row(VILLAGE, "第一村", g=(2, 1), p=(1, 1), m=(1, 1)),
    _row(VILLAGE_B, "第二村", g=(1, 0), p=(1, 1), m=(0, 0)),
    _row(OTHER_TOWN_VILLAGE, "横渠村", g=(1, 1), p=(1, 0), m=(1, 1)),
    _row(EMPTY_VILLAGE, "空村", g=(0, 0), p=(0, 0), m=(0, 0)),
]


async def _coverage(client, campaign_id: str, headers: dict[str, str], **params: Any) -> Any:
    return await client.get(f"{CAMPAIGNS}/{campaign_id}/coverage", params=params, headers=headers)


async def test_county_coverage_counts_each_town_by_category(client, session):
    campaign_id, county = await _campaign(client, session)
    response = await _coverage(client, campaign_id, county)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": TOWN_ROWS}


async def test_village_level_lists_every_village_empty_ones_too(client, session):
    campaign_id, county = await _campaign(client, session)
    response = await _coverage(client, campaign_id, county, level="village")
    assert response.json() == {"items": VILLAGE_ROWS}


async def test_town_region_defaults_to_its_villages(client, session):
    campaign_id, county = await _campaign(client, session)
    by_region = await _coverage(client, campaign_id, county, region=TOWN)
    assert by_region.json() == {"items": VILLAGE_ROWS[:2]}
    township = await staff_headers(session, "township_staff", region=TOWN)
    assert (await _coverage(client, campaign_id, township)).json() == {"items": VILLAGE_ROWS[:2]}
    village = await staff_headers(session, "village_staff", region=VILLAGE)
    assert (await _coverage(client, campaign_id, village)).json() == {"items": VILLAGE_ROWS[:1]}


async def test_coverage_of_a_town_campaign_stays_inside_it(client, session):
    campaign_id, county = await _campaign(client, session, region=TOWN)
    assert (await _coverage(client, campaign_id, county)).json() == {"items": VILLAGE_ROWS[:2]}
    outside = await _coverage(client, campaign_id, county, region=OTHER_TOWN)
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["code"] == "invalid_region_code"


async def test_coverage_refuses_regions_outside_the_scope_and_bad_levels(client, session):
    campaign_id, _ = await _campaign(client, session)
    township = await staff_headers(session, "township_staff", region=TOWN)
    assert (await _coverage(client, campaign_id, township, region=OTHER_TOWN)).status_code == 404
    assert (await _coverage(client, campaign_id, township, region="61")).status_code == 422
    for level in ("county", "street"):
        response = await _coverage(client, campaign_id, township, level=level)
        assert response.status_code == 422
        assert response.json()["errors"][0]["code"] == "invalid_code"
    village = await staff_headers(session, "village_staff", region=VILLAGE)
    assert (await _coverage(client, campaign_id, village, level="town")).status_code == 422
    viewer = await staff_headers(session, "viewer")
    assert (await _coverage(client, campaign_id, viewer)).status_code == 403


async def _unscreened(client, campaign_id: str, headers: dict[str, str], **params: Any) -> Any:
    return await client.get(f"{CAMPAIGNS}/{campaign_id}/unscreened", params=params, headers=headers)


async def test_unscreened_lists_households_left_out_by_village_in_pages(client, session):
    campaign_id, county = await _campaign(client, session)
    first = (await _unscreened(client, campaign_id, county, limit=2)).json()
    assert first["items"] == [
        {"household_id": "H-2", "region_code": VILLAGE, "category": "general"},
        {"household_id": "H-5", "region_code": VILLAGE_B, "category": "general"},
    ]
    assert first["next_cursor"] is not None
    second = (
        await _unscreened(client, campaign_id, county, limit=2, cursor=first["next_cursor"])
    ).json()
    assert second == {
        "items": [
            {
                "household_id": "H-7",
                "region_code": OTHER_TOWN_VILLAGE,
                "category": "poverty_alleviated",
            }
        ],
        "next_cursor": None,
    }
    bad = await _unscreened(client, campaign_id, county, cursor="not-a-cursor")
    assert bad.status_code == 422


async def test_unscreened_follows_the_scope_and_the_screenings(client, session):
    campaign_id, _ = await _campaign(client, session)
    village = await staff_headers(session, "village_staff", region=VILLAGE)
    page = (await _unscreened(client, campaign_id, village)).json()
    assert [h["household_id"] for h in page["items"]] == ["H-2"]
    assert (
        await upload(client, campaign_id, {"records": [screening("H-2")]}, village)
    ).status_code == 201
    assert (await _unscreened(client, campaign_id, village)).json() == {
        "items": [],
        "next_cursor": None,
    }
    other = await _unscreened(client, campaign_id, village, region=OTHER_TOWN_VILLAGE)
    assert other.status_code == 404
