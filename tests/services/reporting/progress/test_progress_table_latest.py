"""`GET /reporting/v1/progress_table` without `campaign_id`: the latest campaign
covering the region, or a table of no campaign whose screening columns are 0."""

from __future__ import annotations

import pytest

from tests.services.reporting.campaign_dataset import CAMPAIGN
from tests.services.reporting.campaign_figures import FIGURE_CODES
from tests.services.reporting.progress.conftest import TABLE, table, user_headers


async def test_without_campaign_id_the_latest_campaign_covering_the_region_fills_it(
    session, client, data
):
    headers = await user_headers(session)
    response = await client.get(TABLE, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["campaign_id"] == CAMPAIGN  # 2026, not 2025
    assert body == await table(client, headers)


SCREENING_CODES = [c for c in FIGURE_CODES if "screened" in c or c.startswith("problems")]


@pytest.mark.parametrize("output", ["json", "csv"])
async def test_without_a_covering_campaign_the_screening_columns_are_0(
    session, client, data, output
):
    # No campaign is the province's: a province viewer gets a table of none.
    headers = await user_headers(session, "viewer", "610000000000")
    response = await client.get(TABLE, params={"format": output}, headers=headers)
    assert response.status_code == 200, response.text
    if output == "csv":
        assert response.content.startswith(b"\xef\xbb\xbf")
        return
    body = response.json()
    assert (body["campaign_id"], body["campaign_name"]) == (None, None)
    total = body["rows"][-1]
    assert total["level"] == "total"
    assert {code: total[code] for code in SCREENING_CODES} == dict.fromkeys(SCREENING_CODES, 0)
    assert total["households_registered"] > 0
    assert total["data_items_corrected"] is None
