"""The four case steps, their order and roles, the endings and the county decision."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.app import create_app
from shared import clock
from shared.db import Database, get_session
from tests.services.identification.id_helpers import (
    CASES,
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
    open_case,
    register,
    staff_headers,
)

# 2026-11-23 10:00 in Asia/Shanghai: today is 23 November.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
FOUND_ON = date(2026, 11, 10)


def visit_body(**changes: Any) -> dict[str, Any]:
    return {
        "visited_on": "2026-11-11",
        "income_per_capita_yuan": 5200.5,
        "rigid_expenditure_yuan": 31000,
        "housing_secure": True,
        "education_secure": True,
        "medical_secure": False,
        "drinking_water_secure": True,
        "authorisation_signed": True,
        "eligible": True,
        **changes,
    }


def village_body(**changes: Any) -> dict[str, Any]:
    # The notice runs 13 to 17 November: five days, both ends counted.
    return {
        "reviewed_on": "2026-11-12",
        "notice_start": "2026-11-13",
        "notice_end": "2026-11-17",
        "objections": False,
        **changes,
    }


def township_body(**changes: Any) -> dict[str, Any]:
    return {"reviewed_on": "2026-11-14", "approved": True, **changes}


def county_body(**changes: Any) -> dict[str, Any]:
    return {
        "approved_on": "2026-11-18",
        "comparison_waived": False,
        "outcome": "included",
        "monitoring_type": "marginal",
        "risk_types": ["illness"],
        **changes,
    }


BODIES = {
    "household_visit": visit_body,
    "village_review": village_body,
    "township_review": township_body,
    "county_approval": county_body,
}
# Who records each step by default.
ROLES = {
    "household_visit": "village",
    "village_review": "village",
    "township_review": "township",
    "county_approval": "county",
}


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


async def post_step(
    client: httpx.AsyncClient,
    case: dict[str, Any],
    step: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    body = body if body is not None else BODIES[step]()
    return await client.post(f"{CASES}/{case['case_id']}/steps/{step}", json=body, headers=headers)


async def through(
    client: httpx.AsyncClient,
    case: dict[str, Any],
    staff: dict[str, dict[str, str]],
    *steps: str,
) -> dict[str, Any]:
    """Record `steps` with their default bodies and roles; return the case after the last."""
    result = case
    for step in steps:
        response = await post_step(client, case, step, staff[ROLES[step]])
        assert response.status_code == 200, response.text
        result = response.json()
    return result


async def new_case(
    client: httpx.AsyncClient,
    session: AsyncSession,
    household_id: str = "H-1",
    *,
    seq: int = 1,
    category: str = "general",
    risk_types: list[str] | None = None,
    register_household: bool = True,
) -> dict[str, Any]:
    if register_household:
        await register(session, household_id, [seq], category=category)
    return await open_case(client, session, household_id, found_on=FOUND_ON, risk_types=risk_types)


def error_code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["code"])


def slug(response: httpx.Response) -> str:
    return str(response.json()["type"]).rsplit(":", 1)[-1]


async def event_types(session: AsyncSession, aggregate_type: str) -> list[str]:
    rows = await session.execute(
        text("SELECT type FROM events WHERE aggregate_type = :a ORDER BY id"), {"a": aggregate_type}
    )
    return [t for (t,) in rows]


# ------------------------------------------------------------------ the paths


async def test_full_path_includes_the_household_from_the_approval_date(client, session, staff):
    case = await new_case(client, session)
    decided = await through(
        client, case, staff, "household_visit", "village_review", "township_review"
    )
    assert (decided["state"], decided["completed"], decided["decision"]) == ("open", False, None)
    decided = await through(client, case, staff, "county_approval")

    assert (decided["state"], decided["completed"]) == ("decided", True)
    assert decided["decision"] == {
        "outcome": "included",
        "monitoring_type": "marginal",
        "risk_types": ["illness"],
        "reason": None,
        "decided_on": "2026-11-18",
    }
    visit = decided["steps"]["household_visit"]
    assert (visit["income_per_capita_yuan"], visit["done_on"]) == (5200.5, "2026-11-11")
    assert visit["recorded_by"].startswith("user:")
    [obj] = (
        await session.execute(
            text(
                "SELECT household_id, region_code, monitoring_type, risk_types, status,"
                " included_on, case_id::text FROM monitoring_objects"
            )
        )
    ).all()
    assert tuple(obj) == (
        "H-1",
        VILLAGE,
        "marginal",
        ["illness"],
        "risk_not_eliminated",
        date(2026, 11, 18),
        case["case_id"],
    )
    assert await event_types(session, "case") == [
        "case.opened",
        *["case.step_completed"] * 4,
        "case.decided",
    ]
    assert await event_types(session, "monitoring_object") == ["monitoring_object.included"]
    [(steps_done,)] = (await session.execute(text("SELECT steps_done FROM cases"))).all()
    assert steps_done == ["household_visit", "village_review", "township_review", "county_approval"]


async def test_reviews_may_run_in_either_order(client, session, staff):
    case = await new_case(client, session)
    result = await through(
        client,
        case,
        staff,
        "household_visit",
        "township_review",
        "village_review",
        "county_approval",
    )
    assert (result["state"], result["completed"]) == ("decided", True)


async def test_household_found_not_eligible_at_the_visit_ends_the_case(client, session, staff):
    case = await new_case(client, session)
    response = await post_step(
        client, case, "household_visit", staff["village"], visit_body(eligible=False)
    )
    assert response.status_code == 200
    result = response.json()
    assert (result["state"], result["completed"]) == ("decided", True)
    assert result["decision"]["outcome"] == "not_eligible"
    assert result["decision"]["decided_on"] == "2026-11-11"
    [(payload,)] = (
        await session.execute(text("SELECT payload FROM events WHERE type = 'case.decided'"))
    ).all()
    assert payload == {
        "case_id": case["case_id"],
        "household_id": "H-1",
        "outcome": "not_eligible",
        "decided_on": "2026-11-11",
    }


async def test_township_rejection_ends_the_case_as_not_included(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit")
    body = township_body(approved=False, notes="收入高于监测范围")
    response = await post_step(client, case, "township_review", staff["township"], body)
    assert response.status_code == 200
    result = response.json()
    assert (result["state"], result["completed"]) == ("decided", True)
    assert result["decision"]["outcome"] == "not_included"
    assert result["decision"]["reason"] == "收入高于监测范围"
    assert result["decision"]["decided_on"] == "2026-11-14"


async def test_county_decides_not_included_with_its_reason(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit", "village_review", "township_review")
    body = county_body(outcome="not_included", reason="风险已化解，跟踪关注")
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert response.status_code == 200
    result = response.json()
    assert (result["state"], result["completed"]) == ("decided", True)
    assert result["decision"]["outcome"] == "not_included"
    assert result["decision"]["reason"] == "风险已化解，跟踪关注"
    [(count,)] = (await session.execute(text("SELECT count(*) FROM monitoring_objects"))).all()
    assert count == 0


async def test_not_included_without_a_reason_is_refused(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit", "village_review", "township_review")
    body = county_body(outcome="not_included")
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "reason",
        "code": "missing_field",
        "message": "A not_included decision needs a reason",
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


# ------------------------------------------------------------------ waiver


async def test_waiver_after_a_notice_with_objections_is_refused(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit", "township_review")
    body = village_body(objections=True, notes="有群众提出异议")
    assert (await post_step(client, case, "village_review", staff["village"], body)).is_success
    body = county_body(comparison_waived=True)
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert (response.status_code, error_code(response)) == (422, "waiver_not_allowed")
    # Without the waiver the comparison is done and the county decides.
    response = await post_step(client, case, "county_approval", staff["county"], county_body())
    assert response.status_code == 200


async def test_waiver_after_a_notice_without_objections_is_allowed(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit", "village_review", "township_review")
    body = county_body(comparison_waived=True)
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert response.status_code == 200
    assert response.json()["steps"]["county_approval"]["comparison_waived"] is True


# ------------------------------------------------------------------ the decision


async def test_monitoring_type_that_does_not_fit_the_category_is_refused(client, session, staff):
    case = await new_case(client, session, category="general")
    await through(client, case, staff, "household_visit", "village_review", "township_review")
    body = county_body(monitoring_type="unstable_alleviated")
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert (response.status_code, error_code(response)) == (422, "monitoring_type_mismatch")


async def test_alleviated_household_is_included_as_unstable_alleviated(client, session, staff):
    case = await new_case(client, session, category="poverty_alleviated")
    await through(client, case, staff, "household_visit", "village_review", "township_review")
    body = county_body(monitoring_type="unstable_alleviated")
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert response.status_code == 200
    assert response.json()["decision"]["monitoring_type"] == "unstable_alleviated"


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"risk_types": []}, "risk_types", "missing_field"),
        ({"risk_types": ["bad_luck"]}, "risk_types", "invalid_code"),
        ({"monitoring_type": None}, "monitoring_type", "missing_field"),
        ({"monitoring_type": "poor"}, "monitoring_type", "invalid_code"),
        ({"outcome": "eliminated"}, "outcome", "invalid_code"),
    ],
)
async def test_inclusion_needs_catalog_codes(client, session, staff, changes, field, code):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit", "village_review", "township_review")
    response = await post_step(
        client, case, "county_approval", staff["county"], county_body(**changes)
    )
    assert response.status_code == 422
    assert (response.json()["errors"][0]["field"], error_code(response)) == (field, code)


async def test_monitored_household_is_decided_risk_updated_not_included(client, session, staff):
    first = await new_case(client, session)
    await through(
        client,
        first,
        staff,
        "household_visit",
        "village_review",
        "township_review",
        "county_approval",
    )
    second = await new_case(client, session, register_household=False)
    await through(client, second, staff, "household_visit", "village_review", "township_review")

    response = await post_step(client, second, "county_approval", staff["county"])
    assert (response.status_code, error_code(response)) == (422, "already_monitored")

    body = county_body(
        outcome="risk_updated", monitoring_type=None, risk_types=["disaster", "illness"]
    )
    response = await post_step(client, second, "county_approval", staff["county"], body)
    assert response.status_code == 200, response.text
    assert response.json()["decision"] == {
        "outcome": "risk_updated",
        "monitoring_type": "marginal",
        "risk_types": ["disaster", "illness"],
        "reason": None,
        "decided_on": "2026-11-18",
    }
    rows = (
        await session.execute(
            text("SELECT risk_types, included_on, case_id::text FROM monitoring_objects")
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        (["disaster", "illness"], date(2026, 11, 18), first["case_id"])
    ]
    assert await event_types(session, "monitoring_object") == [
        "monitoring_object.included",
        "monitoring_object.risk_updated",
    ]


async def test_risk_updated_for_a_household_that_is_not_monitored_is_refused(
    client, session, staff
):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit", "village_review", "township_review")
    body = county_body(outcome="risk_updated")
    response = await post_step(client, case, "county_approval", staff["county"], body)
    assert (response.status_code, error_code(response)) == (422, "not_monitored")


async def test_every_step_is_audited_without_personal_data(client, session, staff):
    case = await new_case(client, session)
    await through(client, case, staff, "household_visit")
    [(details,)] = (
        await session.execute(
            text(
                "SELECT details FROM audit_log"
                " WHERE target_id = :id AND action = 'case.step_completed'"
            ),
            {"id": case["case_id"]},
        )
    ).all()
    assert details == {"step": "household_visit", "done_on": "2026-11-11"}


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
