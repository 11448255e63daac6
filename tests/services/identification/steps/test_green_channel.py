"""The green channel (绿色通道): sudden risks decided before the village review."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from tests.services.identification.id_helpers import CASES, TOWN, VILLAGE, staff_headers
from tests.services.identification.steps.step_helpers import (
    NOW,
    county_body,
    error_code,
    event_types,
    new_case,
    post_step,
    slug,
    through,
    township_body,
)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def staff(session: AsyncSession) -> dict[str, dict[str, str]]:
    return {
        "village": await staff_headers(session, "village_staff", VILLAGE),
        "township": await staff_headers(session, "township_staff", TOWN),
        "county": await staff_headers(session, "county_staff"),
    }


async def green_channel(
    client: httpx.AsyncClient, case: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    return await client.post(
        f"{CASES}/{case['case_id']}/green_channel",
        json={"reason": "房屋因洪水倒塌，需立即帮扶"},
        headers=headers,
    )


async def visited(client: httpx.AsyncClient, session: AsyncSession, case: dict[str, Any]) -> None:
    village = await staff_headers(session, "village_staff", VILLAGE)
    assert (await post_step(client, case, "household_visit", village)).status_code == 200


async def sudden_case(client: httpx.AsyncClient, session: AsyncSession) -> dict[str, Any]:
    """A case on the green channel for a disaster named by the manual clue, its
    household visit recorded (the green channel starts from it)."""
    case = await new_case(client, session, risk_types=["disaster"])
    await visited(client, session, case)
    county = await staff_headers(session, "county_staff")
    response = await green_channel(client, case, county)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_case_of_a_sudden_risk_takes_the_green_channel_once(client, session, staff):
    case = await new_case(client, session, risk_types=["illness", "lack_of_funds"])
    await visited(client, session, case)
    response = await green_channel(client, case, staff["county"])
    assert response.status_code == 200
    assert (response.json()["green_channel"], response.json()["state"]) == (True, "open")
    assert "case.green_channel" in await event_types(session, "case")
    [(reason,)] = (await session.execute(text("SELECT green_channel_reason FROM cases"))).all()
    assert reason == "房屋因洪水倒塌，需立即帮扶"

    again = await green_channel(client, case, staff["county"])
    assert (again.status_code, slug(again)) == (409, "already_green_channel")


async def test_case_with_a_sudden_warning_takes_the_green_channel(client, session, staff):
    case = await new_case(client, session, risk_types=["lack_of_funds"])
    await session.execute(
        text(
            "INSERT INTO case_warnings (warning_id, county_code, case_id, warning_type)"
            " VALUES (:w, '610326', :c, 'epidemic_impact')"
        ),
        {"w": uuid.uuid4(), "c": uuid.UUID(case["case_id"])},
    )
    await visited(client, session, case)
    response = await green_channel(client, case, staff["county"])
    assert response.status_code == 200, response.text


async def test_case_without_a_sudden_risk_is_refused_the_green_channel(client, session, staff):
    case = await new_case(client, session, risk_types=["lack_of_funds"])
    await session.execute(
        text(
            "INSERT INTO case_warnings (warning_id, county_code, case_id, warning_type)"
            " VALUES (:w, '610326', :c, 'dibao')"
        ),
        {"w": uuid.uuid4(), "c": uuid.UUID(case["case_id"])},
    )
    response = await green_channel(client, case, staff["county"])
    assert (response.status_code, error_code(response)) == (422, "not_a_sudden_risk")
    [(flag,)] = (await session.execute(text("SELECT green_channel FROM cases"))).all()
    assert flag is False


@pytest.mark.parametrize("role", ["village", "township"])
async def test_only_county_staff_may_open_the_green_channel(client, session, staff, role):
    case = await new_case(client, session, risk_types=["disaster"])
    response = await green_channel(client, case, staff[role])
    assert response.status_code == 403


async def test_decided_case_cannot_take_the_green_channel(client, session, staff):
    case = await new_case(client, session, risk_types=["disaster"])
    await through(client, case, staff, "household_visit")
    body = township_body(approved=False, notes="不符合")
    assert (await post_step(client, case, "township_review", staff["township"], body)).is_success
    response = await green_channel(client, case, staff["county"])
    assert (response.status_code, slug(response)) == (409, "case_decided")


async def test_county_approval_may_precede_the_village_review(client, session, staff):
    case = await sudden_case(client, session)
    decided = await through(client, case, staff, "township_review", "county_approval")
    assert (decided["state"], decided["completed"]) == ("decided", False)
    assert decided["decision"]["outcome"] == "included"
    assert decided["steps"]["village_review"] is None
    [(included_on,)] = (
        await session.execute(text("SELECT included_on::text FROM monitoring_objects"))
    ).all()
    assert included_on == "2026-11-18"


async def test_late_village_review_completes_a_decided_green_channel_case(client, session, staff):
    case = await sudden_case(client, session)
    await through(client, case, staff, "township_review", "county_approval")
    completed = await through(client, case, staff, "village_review")
    assert (completed["state"], completed["completed"]) == ("decided", True)
    assert completed["decision"]["decided_on"] == "2026-11-18"
    again = await post_step(client, case, "village_review", staff["village"])
    assert (again.status_code, slug(again)) == (409, "step_already_done")


async def test_green_channel_still_needs_the_visit_and_the_township_review(client, session, staff):
    case = await sudden_case(client, session)
    response = await post_step(client, case, "county_approval", staff["county"])
    assert (response.status_code, slug(response)) == (409, "step_out_of_order")
    assert response.json()["missing_steps"] == ["township_review"]


async def test_waiver_before_the_village_review_is_refused(client, session, staff):
    case = await sudden_case(client, session)
    await through(client, case, staff, "township_review")
    body = county_body(comparison_waived=True)
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert (response.status_code, error_code(response)) == (422, "waiver_not_allowed")


async def test_case_ended_by_the_township_takes_no_late_village_review(client, session, staff):
    case = await sudden_case(client, session)
    body = township_body(approved=False, notes="不符合")
    result = await post_step(client, case, "township_review", staff["township"], body)
    assert result.json()["completed"] is True
    response = await post_step(client, case, "village_review", staff["village"])
    assert (response.status_code, slug(response)) == (409, "case_decided")


async def test_green_channel_starts_from_the_household_visit(client, session, staff):
    case = await new_case(client, session, risk_types=["disaster"])
    response = await green_channel(client, case, staff["county"])
    assert (response.status_code, slug(response)) == (409, "step_out_of_order")
    assert response.json()["missing_steps"] == ["household_visit"]
    [(flag,)] = (await session.execute(text("SELECT green_channel FROM cases"))).all()
    assert flag is False
    assert "case.green_channel" not in await event_types(session, "case")
