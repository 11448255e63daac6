"""The progress table's tests share one campaign data set (campaign_dataset.py)
at one frozen moment, and a way to ask for the table."""

from __future__ import annotations

import pytest

from shared import clock
from shared.auth import issue_token
from tests.services.reporting.campaign_dataset import CAMPAIGN, load_campaign
from tests.services.reporting.campaign_figures import FIGURE_CODES
from tests.services.reporting.dataset import COUNTY, NOW

TABLE = "/reporting/v1/progress_table"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def data(session):
    await load_campaign(session)


async def user_headers(session, role: str = "viewer", region: str = COUNTY) -> dict[str, str]:
    _, token = await issue_token(session, kind="user", name=role, role=role, region_code=region)
    return {"Authorization": f"Bearer {token}"}


async def table(client, headers, **params) -> dict:
    response = await client.get(TABLE, params={"campaign_id": CAMPAIGN} | params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def figures(row: dict) -> dict:
    return {code: row[code] for code in FIGURE_CODES}
