"""The case steps' order, who may record them, their dates and the public
notice, and two steps racing for one case (SPEC §4)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.app import create_app
from shared import clock
from shared.db import Database, get_session
from tests.services.identification.id_helpers import (
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
    open_case,
    register,
    staff_headers,
)
from tests.services.identification.steps.step_helpers import (
    BODIES,
    FOUND_ON,
    NOW,
    ROLES,
    county_body,
    error_code,
    new_case,
    post_step,
    slug,
    through,
    village_body,
    visit_body,
)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def staff(session: AsyncSession) -> dict[str, dict[str, str]]:
    """Headers of a village, a township and a county staff member over VILLAGE."""
    return {
        "village": await staff_headers(session, "village_staff", VILLAGE),
        "township": await staff_headers(session, "township_staff", TOWN),
        "county": await staff_headers(session, "county_staff"),
    }


# ------------------------------------------------------------------ order


async def test_village_review_before_the_visit_is_out_of_order(client, session, staff):
    case = await new_case(client, session)
    response = await post_step(client, case, "village_review", staff["village"])
    assert response.status_code == 409
    assert slug(response) == "step_out_of_order"
    assert response.json()["missing_steps"] == ["household_visit"]


async def test_county_approval_before_the_township_review_is_out_of_order(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit", "village_review")
    response = await post_step(client, case, "county_approval", staff["county"])
    assert response.status_code == 409
    assert slug(response) == "step_out_of_order"
    assert response.json()["missing_steps"] == ["township_review"]


async def test_county_approval_before_the_village_review_is_out_of_order(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit", "township_review")
    response = await post_step(client, case, "county_approval", staff["county"])
    assert (response.status_code, slug(response)) == (409, "step_out_of_order")


async def test_a_step_done_twice_is_refused(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit")
    response = await post_step(client, case, "household_visit", staff["village"])
    assert (response.status_code, slug(response)) == (409, "step_already_done")
    [(count,)] = (await session.execute(text("SELECT count(*) FROM case_steps"))).all()
    assert count == 1


async def test_a_step_after_the_decision_is_refused(client, session, staff):
    case = await new_case(client, session)
    body = visit_body(eligible=False)
    assert (await post_step(client, case, "household_visit", staff["village"], body)).is_success
    response = await post_step(client, case, "township_review", staff["township"])
    assert (response.status_code, slug(response)) == (409, "case_decided")
    response = await post_step(client, case, "village_review", staff["village"])
    assert (response.status_code, slug(response)) == (409, "case_decided")


# ------------------------------------------------------------------ roles and scope


async def test_village_staff_may_not_record_the_township_review(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit")
    response = await post_step(client, case, "township_review", staff["village"])
    assert response.status_code == 403


async def test_township_staff_may_not_record_the_visit(client, session, staff):
    case = await new_case(client, session)
    response = await post_step(client, case, "household_visit", staff["township"])
    assert response.status_code == 403


async def test_village_staff_may_not_record_the_county_approval(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit", "village_review", "township_review")
    response = await post_step(client, case, "county_approval", staff["village"])
    assert response.status_code == 403


async def test_county_staff_may_record_every_step(client, session, staff):
    case = await new_case(client, session)
    result = case
    for step in BODIES:
        response = await post_step(client, case, step, staff["county"])
        assert response.status_code == 200, response.text
        result = response.json()
    assert result["completed"] is True


async def test_step_on_a_case_outside_the_callers_village_is_404(client, session, staff):
    await register(session, "H-9", [9], region=OTHER_TOWN_VILLAGE)
    case = await open_case(client, session, "H-9", found_on=FOUND_ON)
    response = await post_step(client, case, "household_visit", staff["village"])
    assert response.status_code == 404


# ------------------------------------------------------------------ dates and notice


@pytest.mark.parametrize(
    ("step", "field", "day"),
    [
        ("household_visit", "visited_on", "2026-11-09"),
        ("household_visit", "visited_on", "2026-11-24"),
        ("village_review", "notice_end", "2026-11-24"),
        ("village_review", "notice_start", "2026-11-09"),
    ],
)
async def test_step_dates_outside_opened_on_to_today_are_refused(
    client, session, staff, step, field, day
):
    case = await new_case(client, session)
    if step != "household_visit":
        await through(client, case, staff, "household_visit")
    body = BODIES[step](**{field: day})
    response = await post_step(client, case, step, staff[ROLES[step]], body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert error_code(response) == "invalid_date"


async def test_notice_of_four_days_is_too_short(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit")
    body = village_body(notice_start="2026-11-13", notice_end="2026-11-16")
    response = await post_step(client, case, "village_review", staff["village"], body)
    assert response.status_code == 422
    assert error_code(response) == "notice_too_short"


async def test_notice_of_exactly_five_days_counting_both_ends_is_accepted(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit")
    body = village_body(notice_start="2026-11-14", notice_end="2026-11-18")
    response = await post_step(client, case, "village_review", staff["village"], body)
    assert response.status_code == 200, response.text
    assert response.json()["steps"]["village_review"]["notice_end"] == "2026-11-18"


async def test_notice_ending_before_it_starts_is_refused(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit")
    body = village_body(notice_start="2026-11-17", notice_end="2026-11-13")
    response = await post_step(client, case, "village_review", staff["village"], body)
    assert (response.status_code, error_code(response)) == (422, "invalid_date")


async def test_approval_before_the_notice_ends_is_refused(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit", "village_review", "township_review")
    body = county_body(approved_on="2026-11-16")
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert (response.status_code, error_code(response)) == (422, "before_notice_end")
    body = county_body(approved_on="2026-11-17")
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert response.status_code == 200, response.text


# ------------------------------------------------------------------ concurrency


@pytest.fixture
async def api(fresh_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The combined app, each request in its own committed transaction on fresh_db."""
    application = create_app()

    async def request_session() -> AsyncIterator[AsyncSession]:
        async with fresh_db.transaction() as s:
            yield s

    for sub in application.state.services.values():
        sub.dependency_overrides[get_session] = request_session
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as c:
        yield c


async def _waiting_on_locks(db: Database, count: int) -> None:
    for _ in range(200):
        async with db.transaction() as s:
            waiting = await s.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{waiting} of {count} requests reached the case lock")


async def test_two_visits_racing_record_the_step_once(api, fresh_db):
    async with fresh_db.transaction() as s:
        await register(s, "H-1", [1])
        village = await staff_headers(s, "village_staff", VILLAGE)
        county = await staff_headers(s, "county_staff")
    case = await open_case(api, None, "H-1", found_on=FOUND_ON, headers=county)  # type: ignore[arg-type]
    # Both requests have read the case (scope check) before either takes its lock.
    async with fresh_db.transaction() as blocker:
        await blocker.execute(
            text("SELECT 1 FROM cases WHERE case_id = :id FOR UPDATE"), {"id": case["case_id"]}
        )
        tasks = [
            asyncio.ensure_future(post_step(api, case, "household_visit", village))
            for _ in range(2)
        ]
        await _waiting_on_locks(fresh_db, 2)
    responses = await asyncio.gather(*tasks)
    assert sorted(r.status_code for r in responses) == [200, 409]
    async with fresh_db.transaction() as s:
        [(steps, events)] = (
            await s.execute(
                text(
                    "SELECT (SELECT count(*) FROM case_steps),"
                    " (SELECT count(*) FROM events WHERE type = 'case.step_completed')"
                )
            )
        ).all()
    assert (steps, events) == (1, 1)
