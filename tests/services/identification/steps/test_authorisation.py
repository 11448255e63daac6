"""农户授权 (SPEC §12, Meixian): a county decision that includes the household
or updates its risk needs the visit's signed authorisation."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from tests.services.identification.id_helpers import TOWN, VILLAGE, staff_headers
from tests.services.identification.steps.step_helpers import (
    NOW,
    county_body,
    error_code,
    event_types,
    new_case,
    post_step,
    through,
    visit_body,
)

REVIEWS = ("village_review", "township_review")


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


async def _unsigned_case(client, session, staff, **new) -> dict:
    case = await new_case(client, session, **new)
    body = visit_body(authorisation_signed=False)
    assert (await post_step(client, case, "household_visit", staff["village"], body)).is_success
    await through(client, case, staff, *REVIEWS)
    return case


async def _state(session: AsyncSession) -> tuple:
    cases = (
        await session.execute(text("SELECT state, outcome FROM cases ORDER BY opened_on"))
    ).all()
    objects = (await session.execute(text("SELECT risk_types FROM monitoring_objects"))).all()
    return [tuple(c) for c in cases], [tuple(o) for o in objects]


async def test_inclusion_without_the_authorisation_is_refused_and_changes_nothing(
    client, session, staff
):
    case = await _unsigned_case(client, session, staff)
    before = (await _state(session), await event_types(session, "case"))
    response = await post_step(client, case, "county_approval", staff["county"])
    assert (response.status_code, error_code(response)) == (422, "authorisation_missing")
    assert response.json()["errors"][0]["field"] == "authorisation_signed"
    assert (await _state(session), await event_types(session, "case")) == before
    assert await event_types(session, "monitoring_object") == []


async def test_risk_update_without_the_authorisation_is_refused(client, session, staff):
    first = await new_case(client, session)
    await through(client, first, staff, "household_visit", *REVIEWS, "county_approval")
    case = await _unsigned_case(client, session, staff, register_household=False)
    body = county_body(outcome="risk_updated", monitoring_type=None, risk_types=["disaster"])
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert (response.status_code, error_code(response)) == (422, "authorisation_missing")
    objects = (await session.execute(text("SELECT risk_types FROM monitoring_objects"))).all()
    assert [tuple(o) for o in objects] == [(["illness"],)]


async def test_not_included_needs_no_authorisation(client, session, staff):
    case = await _unsigned_case(client, session, staff)
    body = county_body(outcome="not_included", reason="风险可控")
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert response.status_code == 200, response.text
    assert response.json()["decision"]["outcome"] == "not_included"
