"""The progress table refuses what it must: other counties' campaigns and
regions, malformed ids, unknown formats, department clients."""

from __future__ import annotations

import pytest

from shared.auth import issue_token
from tests.services.reporting.campaign_dataset import CAMPAIGN, OTHER_CAMPAIGN
from tests.services.reporting.campaign_figures import EXPECTED
from tests.services.reporting.dataset import (
    COUNTY,
    OTHER_COUNTY,
    TOWN_A,
    TOWN_B,
    VILLAGE_A2,
)
from tests.services.reporting.progress.conftest import TABLE, figures, table, user_headers

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEVEL_LABELS = {"town": "乡镇", "village": "村", "total": "合计"}


async def test_a_campaign_of_another_county_is_404(session, client, data):
    response = await client.get(
        TABLE, params={"campaign_id": OTHER_CAMPAIGN}, headers=await user_headers(session)
    )
    assert response.status_code == 404
    assert "陇县" not in response.text


async def test_an_unknown_campaign_is_404(session, client, data):
    response = await client.get(
        TABLE,
        params={"campaign_id": "5c000000-0000-0000-0000-0000000000ff"},
        headers=await user_headers(session),
    )
    assert response.status_code == 404


@pytest.mark.parametrize(("scope", "region"), [(TOWN_A, TOWN_B), (COUNTY, OTHER_COUNTY)])
async def test_a_region_outside_the_scope_is_404(session, client, data, scope, region):
    response = await client.get(
        TABLE,
        params={"campaign_id": CAMPAIGN, "region": region},
        headers=await user_headers(session, "viewer", scope),
    )
    assert response.status_code == 404


async def test_a_region_the_campaign_does_not_cover_is_404(session, client, data):
    # A city viewer may read 陇县, but 眉县's campaign has no rows there.
    response = await client.get(
        TABLE,
        params={"campaign_id": CAMPAIGN, "region": OTHER_COUNTY},
        headers=await user_headers(session, "viewer", "610300000000"),
    )
    assert response.status_code == 404


async def test_a_city_viewer_gets_the_campaigns_county(session, client, data):
    body = await table(client, await user_headers(session, "viewer", "610300000000"))
    assert body["region"] == COUNTY
    assert figures(body["rows"][-1]) == EXPECTED[COUNTY]


async def test_a_malformed_campaign_id_is_422(session, client, data):
    response = await client.get(
        TABLE, params={"campaign_id": "not-a-uuid"}, headers=await user_headers(session)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "campaign_id"


async def test_an_unknown_format_is_422(session, client, data):
    response = await client.get(
        TABLE,
        params={"campaign_id": CAMPAIGN, "format": "pdf"},
        headers=await user_headers(session),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "format",
            "code": "invalid_code",
            "message": "format must be one of json, csv, xlsx",
        }
    ]


@pytest.mark.parametrize("role", ["viewer", "county_staff", "township_staff", "village_staff"])
async def test_viewers_and_staff_may_read(session, client, data, role):
    body = await table(client, await user_headers(session, role, VILLAGE_A2))
    assert [(r["region_code"], r["level"]) for r in body["rows"]] == [
        (VILLAGE_A2, "village"),
        (VILLAGE_A2, "total"),
    ]
    assert figures(body["rows"][-1]) == EXPECTED[VILLAGE_A2]


async def test_department_clients_are_forbidden(session, client, data):
    _, token = await issue_token(session, kind="client", name="civil", department="civil_affairs")
    response = await client.get(
        TABLE, params={"campaign_id": CAMPAIGN}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
