"""The alleviated medical threshold applies to an already monitored household (SPEC §3)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from shared import clock
from tests.services.warning_ingest.batches.push_paths import push_path  # noqa: F401
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    VILLAGE,
    department_headers,
    record,
    register,
)

pytestmark = pytest.mark.usefixtures("push_path")

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.mark.parametrize(
    ("object_status", "expected"),
    [
        ("risk_not_eliminated", "matched"),
        ("risk_eliminated", "below_threshold"),
        (None, "below_threshold"),
    ],
)
async def test_general_household_with_an_active_monitoring_object_gets_the_alleviated_threshold(
    client, session, object_status, expected
):
    await register(session, "H-1", [1], category="general")
    if object_status is not None:
        await session.execute(
            text(
                "INSERT INTO monitoring_objects (object_id, county_code, household_id,"
                " region_code, monitoring_type, risk_types, status, included_on, case_id)"
                " VALUES (:object_id, '610326', 'H-1', :region, 'marginal', ARRAY['illness'],"
                " :status, :included_on, :case_id)"
            ),
            {
                "object_id": uuid.uuid4(),
                "region": VILLAGE,
                "status": object_status,
                "included_on": date(2026, 6, 1),
                "case_id": uuid.uuid4(),
            },
        )
    headers = await department_headers(session, "medical_insurance")
    rec = record(1, "high_medical_expense", amount_yuan=10000)
    response = await client.post(BATCHES, json={"records": [rec]}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 1
    [(status,)] = (await session.execute(text("SELECT status FROM warnings"))).all()
    assert status == expected
