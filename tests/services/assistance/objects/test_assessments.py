"""Assessments: visits and look-backs (回头看), the line of their own year, scope."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from shared import clock
from shared.policy import SHIPPED, get_policy
from shared.settings import reset_settings
from tests.services.assistance.assist_helpers import add_object, register, staff_headers

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


def url(object_id) -> str:
    return f"/assistance/v1/monitoring_objects/{object_id}/assessments"


def assessment(assessed_on: str, income: float = 8000, **overrides) -> dict:
    return {
        "assessed_on": assessed_on,
        "kind": "routine",
        "income_per_capita_yuan": income,
        "rigid_expenditure_yuan": 1200.5,
        "housing_secure": True,
        "education_secure": True,
        "medical_secure": True,
        "drinking_water_secure": True,
        **overrides,
    }


@contextmanager
def policy_with(path: Path, extra: str) -> Iterator[None]:
    """Run with the shipped policy plus `extra` TOML, then restore the process's policy."""
    path.write_text(SHIPPED.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
    previous = os.environ.get("WARNEX_POLICY_FILE")
    os.environ["WARNEX_POLICY_FILE"] = str(path)
    reset_settings()
    get_policy.cache_clear()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("WARNEX_POLICY_FILE", None)
        else:
            os.environ["WARNEX_POLICY_FILE"] = previous
        reset_settings()
        get_policy.cache_clear()


async def test_recorded_assessment_is_judged_against_the_line_audited_and_announced(
    client, session
):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session, "village_staff", "610326100201")
    response = await client.post(
        url(object_id), json=assessment("2026-11-20", 7000, notes="visited"), headers=headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["above_line"] is True
    assert body["monitoring_line_yuan"] == 6900
    assert body["income_per_capita_yuan"] == 7000
    assert (body["kind"], body["notes"]) == ("routine", "visited")
    event = (
        await session.execute(
            text(
                "SELECT type, aggregate_id, payload FROM events WHERE type = 'assessment.recorded'"
            )
        )
    ).one()
    assert event.aggregate_id == str(object_id)
    assert event.payload == {
        "assessment_id": body["assessment_id"],
        "object_id": str(object_id),
        "household_id": "H-1",
        "kind": "routine",
        "assessed_on": "2026-11-20",
        "above_line": True,
    }
    audited = await session.scalar(
        text("SELECT count(*) FROM audit_log WHERE action = 'assessment.recorded'")
    )
    assert audited == 1


async def test_income_at_the_line_is_not_above_it(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    response = await client.post(
        url(object_id), json=assessment("2026-11-20", 6900), headers=headers
    )
    assert response.json()["above_line"] is False


async def test_assessments_are_listed_newest_first_in_pages(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    for day in ("2026-03-01", "2026-10-01", "2026-06-01"):
        await client.post(url(object_id), json=assessment(day), headers=headers)
    first = (await client.get(url(object_id), params={"limit": 2}, headers=headers)).json()
    assert [a["assessed_on"] for a in first["items"]] == ["2026-10-01", "2026-06-01"]
    rest = (
        await client.get(url(object_id), params={"cursor": first["next_cursor"]}, headers=headers)
    ).json()
    assert [a["assessed_on"] for a in rest["items"]] == ["2026-03-01"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("assessed_on", ["2026-01-04", "2026-11-24"])
async def test_assessment_before_inclusion_or_in_the_future_is_422(client, session, assessed_on):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1", included_on=date(2026, 1, 5))
    headers = await staff_headers(session)
    response = await client.post(url(object_id), json=assessment(assessed_on), headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "assessed_on"
    assert response.json()["errors"][0]["code"] == "invalid_date"


async def test_assessment_on_the_inclusion_day_and_today_is_accepted(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1", included_on=date(2026, 1, 5))
    headers = await staff_headers(session)
    for day in ("2026-01-05", "2026-11-23"):
        response = await client.post(url(object_id), json=assessment(day), headers=headers)
        assert response.status_code == 201, response.text


async def test_removed_object_is_not_assessed(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1", status="removed")
    headers = await staff_headers(session)
    response = await client.post(url(object_id), json=assessment("2026-11-20"), headers=headers)
    assert response.status_code == 409
    assert response.json()["type"].endswith("object_removed")


async def test_unknown_kind_is_422(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    body = assessment("2026-11-20", kind="yearly")
    response = await client.post(url(object_id), json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "invalid_code"


async def test_object_outside_the_scope_is_404_for_assessments(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    other_town = await staff_headers(session, "township_staff", "610326200000")
    posted = await client.post(url(object_id), json=assessment("2026-11-20"), headers=other_town)
    assert posted.status_code == 404
    assert (await client.get(url(object_id), headers=other_town)).status_code == 404


async def test_the_line_is_taken_from_the_assessments_year(client, session, tmp_path):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1", included_on=date(2024, 6, 1))
    headers = await staff_headers(session)
    extra = (
        "[years.2026]\nmonitoring_line_yuan = 7600\n"
        "medical_threshold_general_yuan = 20000\nmedical_threshold_alleviated_yuan = 10000\n"
    )
    with policy_with(tmp_path / "policy.toml", extra):
        # 2025 has no figures of its own: 2022's 6900 applies; 2026 has 7600.
        in_2025 = await client.post(
            url(object_id), json=assessment("2025-12-31", 7500), headers=headers
        )
        in_2026 = await client.post(
            url(object_id), json=assessment("2026-01-01", 7500), headers=headers
        )
        assert (in_2025.json()["above_line"], in_2025.json()["monitoring_line_yuan"]) == (
            True,
            6900,
        )
        assert (in_2026.json()["above_line"], in_2026.json()["monitoring_line_yuan"]) == (
            False,
            7600,
        )
    assert get_policy().figures_for(date(2026, 1, 1)).monitoring_line_yuan == 6900
