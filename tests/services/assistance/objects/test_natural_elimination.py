"""Natural elimination (自然消除): the measure criterion waived, every other kept,
the reason required and kept, and the object showing how it was eliminated."""

from __future__ import annotations

import pytest

from shared import clock
from tests.services.assistance.assist_helpers import staff_headers
from tests.services.assistance.objects.elimination_helpers import (
    NOW,
    OBJECTS,
    error_codes,
    events_of,
    prepared,
)

ID_OBJECTS = "/identification/v1/monitoring_objects"
REASON = "医疗费用已报销，家庭成员已就业"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def natural(client, headers, object_id, **body):
    return await client.post(
        f"{OBJECTS}/{object_id}/elimination",
        json={"decided_on": "2026-11-23", "natural": True, **body},
        headers=headers,
    )


async def test_a_natural_elimination_needs_no_measure_and_keeps_its_reason(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers, measure=None)
    response = await natural(client, headers, object_id, reason=REASON)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "risk_eliminated"
    assert body["elimination"] == {"decided_on": "2026-11-23", "natural": True, "reason": REASON}
    [(_, payload)] = await events_of(session, "risk.eliminated")
    assert payload["natural"] is True
    assert REASON not in str(payload)
    shown = await client.get(f"{ID_OBJECTS}/{object_id}", headers=headers)
    assert shown.json()["elimination"] == body["elimination"]


async def test_a_natural_elimination_without_a_reason_is_422(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers, measure=None)
    assert error_codes(await natural(client, headers, object_id)) == ["missing_field"]
    assert error_codes(await natural(client, headers, object_id, reason="  ")) == ["missing_field"]
    nul = await natural(client, headers, object_id, reason="a\x00b")
    assert nul.status_code == 422


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"incomes": []}, "no_assessment"),
        ({"incomes": [("2026-03-01", 7000), ("2026-10-01", 6900)]}, "income_below_line"),
        ({"incomes": [("2026-06-01", 7000), ("2026-10-01", 8000)]}, "income_not_stable"),
        ({"latest": {"medical_secure": False}}, "three_guarantees_not_secure"),
        ({"latest": {"drinking_water_secure": False}}, "drinking_water_not_secure"),
    ],
)
async def test_a_natural_elimination_is_still_judged_on_income_and_guarantees(
    client, session, setup, code
):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers, measure=None, **setup)
    assert error_codes(await natural(client, headers, object_id, reason=REASON)) == [code]


async def test_a_natural_elimination_is_still_refused_too_early(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers, measure=None)
    response = await client.post(
        f"{OBJECTS}/{object_id}/elimination",
        json={"decided_on": "2026-06-30", "natural": True, "reason": REASON},
        headers=headers,
    )
    assert "monitoring_too_short" in error_codes(response)
    assert "no_measure" not in error_codes(response)


async def test_an_assisted_elimination_says_so_and_a_rollback_clears_it(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    before = await client.get(f"{OBJECTS}/{object_id}", headers=headers)
    assert before.json()["elimination"] is None
    done = await client.post(
        f"{OBJECTS}/{object_id}/elimination",
        json={"decided_on": "2026-11-23", "reason": "ignored unless natural"},
        headers=headers,
    )
    assert done.json()["elimination"] == {
        "decided_on": "2026-11-23",
        "natural": False,
        "reason": None,
    }
    listed = await client.get(ID_OBJECTS, params={"status": "risk_eliminated"}, headers=headers)
    assert [o["elimination"]["natural"] for o in listed.json()["items"]] == [False]
    rolled = await client.post(
        f"{OBJECTS}/{object_id}/rollback", json={"reason": "因病返贫"}, headers=headers
    )
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["elimination"] is None


async def test_the_decision_date_is_a_day_in_the_window(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    response = await client.post(
        f"{OBJECTS}/{object_id}/elimination", json={"decided_on": "0001-01-01"}, headers=headers
    )
    assert error_codes(response) == ["date_out_of_range"]
