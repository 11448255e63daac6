"""The red flags as SPEC §12 reads them, on a hand-built town: the 2% rule in
persons, villages without a poverty-alleviated household, and key areas from
the attributes a regions load gives (loaded here through the API).

测试镇 (town, attribute abandoned_mine) of 测试县:
  甲村 V1 key_village:     K1 poverty-alleviated, 2 members, monitored at risk;
                           K2 general, 58 members                     -> 60 persons
  乙村 V2 resettlement_site, abandoned_mine:
                           K3 general, 2 members, monitored at risk;
                           K4 general, 98 members, object removed     -> 100 persons
  丙村 V3:                 no household

By hand, the high ratio being 0.02:
  V1: persons at risk 2 / 60 = 0.0333 > 0.02: flagged (in households it would
      be 1 / 60 = 0.0167, not flagged: the bug of counting households);
  V2: 2 / 100 = 0.02, not over it: not flagged;
  town: 4 / 160 = 0.025: flagged; V3 has no person, so no ratio.
  No poverty-alleviated household: V2 (V3 has no household at all).
  Zero-object villages: V3 (V2's removed object does not count, but K3's does).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from services.reporting.summaries import refresh_all
from shared import clock
from shared.auth import issue_token
from tests.services.reporting.dataset import NOW

RED_FLAGS = "/reporting/v1/red_flags"
REGIONS = "/ingest/v1/registry/regions"
COUNTY = "610330000000"
TOWN = "610330100000"
V1, V2, V3 = "610330100201", "610330100202", "610330100203"

# household, village, category, members, object status (None: no object)
_HOUSEHOLDS = (
    ("K1", V1, "poverty_alleviated", 2, "risk_not_eliminated"),
    ("K2", V1, "general", 58, None),
    ("K3", V2, "general", 2, "risk_not_eliminated"),
    ("K4", V2, "general", 98, "removed"),
)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _headers(session, role: str, region: str = COUNTY) -> dict[str, str]:
    _, token = await issue_token(session, kind="user", name=role, role=role, region_code=region)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def town(session, client):
    regions = [
        {"code": "610000000000", "name": "陕西省"},
        {"code": "610300000000", "name": "宝鸡市"},
        {"code": COUNTY, "name": "测试县"},
        {"code": TOWN, "name": "测试镇", "attributes": ["abandoned_mine"]},
        {"code": V1, "name": "甲村", "attributes": ["key_village"]},
        {"code": V2, "name": "乙村", "attributes": ["resettlement_site", "abandoned_mine"]},
        {"code": V3, "name": "丙村"},
    ]
    response = await client.post(
        REGIONS, json={"regions": regions}, headers=await _headers(session, "admin")
    )
    assert response.json() == {"upserted": 7, "rejected": 0, "errors": []}
    for household, village, category, members, status in _HOUSEHOLDS:
        await session.execute(
            text(
                "INSERT INTO households (county_code, household_id, region_code, category,"
                " head_name) VALUES ('610330', :h, :v, :c, '户主')"
            ),
            {"h": household, "v": village, "c": category},
        )
        await session.execute(
            text(
                "INSERT INTO members (county_code, id_hash, household_id, id_sealed, id_masked,"
                " name, relation, labour_capacity, in_school, birth_date, sex)"
                " SELECT '610330', decode(md5(:h || i), 'hex'), :h, '\\x00'::bytea,"
                " '610330********0000', '某', 'other', 'full', false, DATE '1990-01-01', 'male'"
                " FROM generate_series(1, :n) AS i"
            ),
            {"h": household, "n": members},
        )
        if status is not None:
            await session.execute(
                text(
                    "INSERT INTO monitoring_objects (object_id, county_code, household_id,"
                    " region_code, monitoring_type, risk_types, status, included_on, case_id,"
                    " removed_on)"
                    " VALUES (gen_random_uuid(), '610330', :h, :v, 'marginal', '{illness}', :s,"
                    " DATE '2026-06-01', gen_random_uuid(), :removed_on)"
                ),
                {
                    "h": household,
                    "v": village,
                    "s": status,
                    "removed_on": date(2026, 9, 1) if status == "removed" else None,
                },
            )
    await refresh_all(session)


async def _flags(session, client, region: str = COUNTY) -> dict:
    response = await client.get(
        RED_FLAGS, params={"region": region}, headers=await _headers(session, "viewer")
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_two_percent_rule_counts_persons(session, client, town):
    body = await _flags(session, client)
    assert body["high_ratio_regions"] == [
        {"region_code": TOWN, "region_name": "测试镇", "ratio": 0.025},
        {"region_code": V1, "region_name": "甲村", "ratio": 0.0333},
    ]


async def test_villages_without_a_poverty_alleviated_household(session, client, town):
    body = await _flags(session, client)
    assert body["no_alleviated_villages"] == [{"region_code": V2, "region_name": "乙村"}]
    assert body["zero_object_villages"] == [{"region_code": V3, "region_name": "丙村"}]
    # K4 becomes poverty-alleviated: a registry load (its event recounts the county).
    await session.execute(
        text("UPDATE households SET category = 'poverty_alleviated' WHERE household_id = 'K4'")
    )
    await refresh_all(session)
    assert (await _flags(session, client))["no_alleviated_villages"] == []


async def test_key_areas_are_the_regions_with_attributes(session, client, town):
    body = await _flags(session, client)
    assert body["key_area_regions"] == [
        {"region_code": TOWN, "region_name": "测试镇", "attributes": ["abandoned_mine"]},
        {"region_code": V1, "region_name": "甲村", "attributes": ["key_village"]},
        {
            "region_code": V2,
            "region_name": "乙村",
            "attributes": ["abandoned_mine", "resettlement_site"],
        },
    ]
    # A village's scope sees only itself.
    assert [r["region_code"] for r in (await _flags(session, client, V2))["key_area_regions"]] == [
        V2
    ]
    assert (await _flags(session, client, V3))["key_area_regions"] == []


async def test_the_flags_name_no_household(session, client, town):
    response = await client.get(RED_FLAGS, headers=await _headers(session, "viewer"))
    for secret in ("K1", "K2", "K3", "K4", "户主", "********"):
        assert secret not in response.text
