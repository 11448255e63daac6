"""The four case steps to the decision: the paths and endings, the waiver, the
county decision and its audit (SPEC §4)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from tests.services.identification.id_helpers import (
    TOWN,
    VILLAGE,
    staff_headers,
)
from tests.services.identification.steps.step_helpers import (
    NOW,
    county_body,
    error_code,
    event_types,
    new_case,
    post_step,
    through,
    township_body,
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
