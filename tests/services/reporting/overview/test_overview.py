"""`GET /reporting/v1/overview` and `/regions` against the hand-checked data set."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from shared import clock
from shared.auth import issue_token
from shared.catalog import DEPARTMENTS, MEASURE_CATEGORIES, MONITORING_TYPES, WARNING_TYPES
from tests.services.reporting.dataset import (
    COUNTY,
    HOUSEHOLD_IDS,
    MASKED_ID_PREFIX,
    NOVEMBER,
    NOW,
    OTHER_COUNTY,
    PERSON_NAMES,
    REGION_NAMES,
    TODAY,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    load_dataset,
)
from tests.services.reporting.dataset_figures import (
    FEEDS,
    NOVEMBER_COUNTY,
    ZERO,
    expected,
    nonzero,
)

OVERVIEW = "/reporting/v1/overview"
REGIONS = "/reporting/v1/regions"
GROUPS = ("warnings", "cases", "monitoring_objects", "measures", "feeds")


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def data(session):
    await load_dataset(session)


async def _user(session, role: str = "viewer", region: str = COUNTY) -> dict[str, str]:
    _, token = await issue_token(session, kind="user", name=role, role=role, region_code=region)
    return {"Authorization": f"Bearer {token}"}


async def _get(client, headers, path: str, **params) -> dict:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _figures(body: dict) -> dict:
    return {group: nonzero(body[group]) for group in GROUPS}


@pytest.mark.parametrize("region", [COUNTY, TOWN_A, TOWN_B, VILLAGE_A1, VILLAGE_A2])
async def test_overview_equals_the_hand_checked_figures(session, client, data, region):
    body = await _get(client, await _user(session), OVERVIEW, region=region)
    got = _figures(body)
    for group in GROUPS:
        assert got[group] == expected(region)[group], group
    assert body["region"] == region
    assert body["period"] == {"date_from": "2026-01-01", "date_to": TODAY.isoformat()}


async def test_overview_defaults_to_the_callers_scope_and_names_it(session, client, data):
    body = await _get(client, await _user(session, "township_staff", TOWN_A), OVERVIEW)
    assert (body["region"], body["region_name"], body["level"]) == (TOWN_A, "首善街道", "town")
    assert _figures(body)["cases"] == expected(TOWN_A)["cases"]


async def test_maps_list_every_catalog_code_with_zeros(session, client, data):
    body = await _get(client, await _user(session), OVERVIEW, region=VILLAGE_A2)
    assert set(body["warnings"]["by_department"]) == set(DEPARTMENTS)
    assert set(body["warnings"]["by_type"]) == set(WARNING_TYPES)
    assert set(body["monitoring_objects"]["by_type"]) == set(MONITORING_TYPES)
    assert set(body["monitoring_objects"]["newly_included"]) == {*MONITORING_TYPES, "epidemic"}
    assert set(body["monitoring_objects"]["by_status"]) == {
        "risk_not_eliminated",
        "risk_eliminated",
        "removed",
    }
    assert set(body["measures"]["by_category"]) == set(MEASURE_CATEGORIES)
    assert body["warnings"]["by_type"]["dibao"] == 0
    assert body["cases"]["within_15_days_rate"] is None
    assert body["cases"]["median_days_to_decision"] is None
    assert body["measures"]["development_coverage_rate"] is None


async def test_regions_of_the_county_are_its_towns(session, client, data):
    body = await _get(client, await _user(session), REGIONS, region=COUNTY)
    assert body["level"] == "town"
    assert [(r["region_code"], r["region_name"]) for r in body["items"]] == [
        (TOWN_A, REGION_NAMES[TOWN_A]),
        (TOWN_B, REGION_NAMES[TOWN_B]),
    ]
    for row in body["items"]:
        assert _figures(row) == expected(row["region_code"])


async def test_regions_of_a_town_list_every_village_even_with_zero_figures(session, client, data):
    body = await _get(client, await _user(session), REGIONS, region=TOWN_A)
    assert body["level"] == "village"
    rows = {r["region_code"]: r for r in body["items"]}
    assert list(rows) == [VILLAGE_A1, VILLAGE_A2]
    assert _figures(rows[VILLAGE_A1]) == expected(VILLAGE_A1)
    assert _figures(rows[VILLAGE_A2]) == ZERO
    assert rows[VILLAGE_A2]["region_name"] == "西街村"


async def test_regions_may_skip_a_level(session, client, data):
    body = await _get(client, await _user(session), REGIONS, region=COUNTY, level="village")
    assert [r["region_code"] for r in body["items"]] == [VILLAGE_A1, VILLAGE_A2, VILLAGE_B1]
    assert _figures(body["items"][2]) == expected(VILLAGE_B1)


async def test_a_towns_row_equals_its_own_overview(session, client, data):
    headers = await _user(session)
    rows = (await _get(client, headers, REGIONS, region=COUNTY))["items"]
    for row in rows:
        own = await _get(client, headers, OVERVIEW, region=row["region_code"])
        assert {g: row[g] for g in GROUPS} == {g: own[g] for g in GROUPS}


async def test_figures_filed_at_the_county_count_for_no_town(session, client, data):
    # W5, an unmatched warning that named no village, is filed at the county.
    headers = await _user(session)
    county = await _get(client, headers, OVERVIEW, region=COUNTY)
    rows = (await _get(client, headers, REGIONS, region=COUNTY))["items"]
    in_towns = sum(r["warnings"]["unmatched"] for r in rows)
    assert (county["warnings"]["unmatched"], in_towns) == (2, 1)


PROVINCE, CITY = "610000000000", "610300000000"


def _counts(figures: dict) -> dict:
    """The figures that add up across regions (counts, not rates or medians)."""
    return {
        group: {
            key: value
            for key, value in figures[group].items()
            if isinstance(value, (int, dict)) and "rate" not in key
        }
        for group in ("warnings", "cases", "monitoring_objects", "measures")
    }


def _plus(a, b):
    """Counts added up, maps (persons' maps too) key by key."""
    if isinstance(a, dict):
        return {key: _plus(a[key], b[key]) for key in a}
    return a + b


def _added(*bodies: dict) -> dict:
    total = _counts(bodies[0])
    for body in bodies[1:]:
        total = _plus(total, _counts(body))
    return total


@pytest.mark.parametrize("region", [PROVINCE, CITY])
async def test_a_province_or_city_adds_up_its_counties(session, client, data, region):
    """Each level reads its own grain of the summaries; they must agree."""
    headers = await _user(session, region=PROVINCE)
    counties = [await _get(client, headers, OVERVIEW, region=c) for c in (COUNTY, OTHER_COUNTY)]
    assert counties[1]["warnings"]["received"] > 0  # the sum below must test both
    own = await _get(client, headers, OVERVIEW, region=region)
    assert _counts(own) == _added(*counties)
    assert _figures(counties[0]) == expected(COUNTY)


@pytest.mark.parametrize("region", [PROVINCE, CITY])
async def test_county_rows_of_a_province_or_city_equal_their_own_overviews(
    session, client, data, region
):
    headers = await _user(session, region=PROVINCE)
    rows = (await _get(client, headers, REGIONS, region=region, level="county"))["items"]
    assert [row["region_code"] for row in rows] == [COUNTY, OTHER_COUNTY]
    for row in rows:
        own = await _get(client, headers, OVERVIEW, region=row["region_code"])
        assert {g: row[g] for g in GROUPS} == {g: own[g] for g in GROUPS}


async def test_a_provinces_city_row_equals_the_city_overview(session, client, data):
    headers = await _user(session, region=PROVINCE)
    (row,) = (await _get(client, headers, REGIONS, region=PROVINCE))["items"]
    own = await _get(client, headers, OVERVIEW, region=CITY)
    assert row["region_code"] == CITY
    assert {g: row[g] for g in GROUPS} == {g: own[g] for g in GROUPS}


async def test_period_changes_period_figures_but_not_stock_figures(session, client, data):
    date_from, date_to = NOVEMBER
    body = await _get(
        client,
        await _user(session),
        OVERVIEW,
        region=COUNTY,
        date_from=date_from.isoformat(),
        date_to=date_to.isoformat(),
    )
    assert _figures(body) == NOVEMBER_COUNTY
    assert body["period"] == {"date_from": "2026-11-01", "date_to": "2026-11-23"}


async def test_period_applies_to_region_rows(session, client, data):
    body = await _get(
        client,
        await _user(session),
        REGIONS,
        region=COUNTY,
        date_from="2026-11-01",
    )
    town_a = body["items"][0]
    assert town_a["warnings"]["received"] == 3  # W2 W3 W7
    assert town_a["cases"]["opened"] == 2  # C4 C10
    assert town_a["cases"]["open"] == expected(TOWN_A)["cases"]["open"]


async def test_feeds_count_the_catalogs_periodic_feeds_by_state(session, client, data):
    body = await _get(client, await _user(session), OVERVIEW, region=TOWN_B)
    assert body["feeds"] == FEEDS
    # Every periodic type once, high_medical_expense once per population (SPEC §12).
    periodic = sum(t.kind == "periodic" for t in WARNING_TYPES.values())
    assert sum(FEEDS.values()) == periodic + 1


async def test_statements_per_request_do_not_grow_with_the_rows(session, client, data, db):
    headers = await _user(session)
    counts = []

    def count(*_args, **_kwargs):
        counts[-1] += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        for path, params in [
            (OVERVIEW, {"region": COUNTY}),
            (REGIONS, {"region": COUNTY}),
            (REGIONS, {"region": COUNTY, "level": "village"}),
        ]:
            counts.append(0)
            await _get(client, headers, path, **params)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert counts[0] == counts[1] == counts[2]
    assert counts[0] <= 12  # token, region, 6 summary statements, feeds, savepoints


async def test_no_personal_data_in_any_response(session, client, data):
    headers = await _user(session)
    texts = [
        (await client.get(OVERVIEW, params={"region": COUNTY}, headers=headers)).text,
        (await client.get(REGIONS, params={"region": COUNTY}, headers=headers)).text,
        (await client.get(REGIONS, params={"region": TOWN_A}, headers=headers)).text,
    ]
    for body in texts:
        for secret in [*HOUSEHOLD_IDS, *PERSON_NAMES, MASKED_ID_PREFIX, "********", "HH-"]:
            assert secret not in body


@pytest.mark.parametrize("role", ["viewer", "county_staff", "township_staff", "village_staff"])
async def test_viewers_and_staff_may_read_figures_in_scope(session, client, data, role):
    headers = await _user(session, role, VILLAGE_A1)
    response = await client.get(OVERVIEW, headers=headers)
    assert response.status_code == 200
    assert response.json()["region"] == VILLAGE_A1


async def test_department_clients_and_admins_are_forbidden(session, client, data):
    _, token = await issue_token(session, kind="client", name="civil", department="civil_affairs")
    admin = await _user(session, "admin")
    for headers in [{"Authorization": f"Bearer {token}"}, admin]:
        for path in [OVERVIEW, REGIONS]:
            assert (await client.get(path, headers=headers)).status_code == 403


async def test_no_token_is_401(client):
    assert (await client.get(OVERVIEW)).status_code == 401


@pytest.mark.parametrize(
    ("scope", "region"), [(COUNTY, OTHER_COUNTY), (TOWN_A, TOWN_B), (TOWN_A, COUNTY)]
)
async def test_a_region_outside_the_scope_is_404(session, client, data, scope, region):
    headers = await _user(session, "viewer", scope)
    for path in [OVERVIEW, REGIONS]:
        response = await client.get(path, params={"region": region}, headers=headers)
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (OVERVIEW, {"region": "61032610"}, "region"),
        (OVERVIEW, {"date_from": "2026-11-02", "date_to": "2026-11-01"}, "date_from"),
        (OVERVIEW, {"date_to": "2026-13-01"}, "date_to"),
        (REGIONS, {"region": VILLAGE_A1}, "level"),
        (REGIONS, {"region": TOWN_A, "level": "county"}, "level"),
        (REGIONS, {"region": TOWN_A, "level": "hamlet"}, "level"),
    ],
)
async def test_bad_parameters_are_422(session, client, path, params, field):
    response = await client.get(path, params=params, headers=await _user(session))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
