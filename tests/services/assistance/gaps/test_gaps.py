"""Assistance gaps, computed live (`GET /assistance/v1/gaps`), and the gap scan."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import entry_points

import pytest
from sqlalchemy import text

from services.assistance.gaps.detection import scan_gaps
from services.assistance.jobs import GAP_SCAN
from shared import clock
from shared.scheduler import run_job
from tests.services.assistance.assist_helpers import (
    MEASURES,
    add_object,
    register,
    staff_headers,
)

GAPS = "/assistance/v1/gaps"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 on the 23rd in Shanghai
TODAY = date(2026, 11, 23)
DAY = timedelta(days=1)
OTHER_TOWN_VILLAGE = "610326101201"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _object(session, household_id: str, *, days_ago: int, **kwargs) -> uuid.UUID:
    await register(session, household_id, [int(household_id.rsplit("-", 1)[1])], **kwargs)
    return await add_object(session, household_id, included_on=TODAY - days_ago * DAY, **kwargs)


async def _gaps(client, headers, **params) -> set[tuple[uuid.UUID, str, str]]:
    response = await client.get(GAPS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {(uuid.UUID(g["object_id"]), g["kind"], g["since"]) for g in response.json()["items"]}


def _of(gaps, object_id) -> dict[str, str]:
    return {kind: since for oid, kind, since in gaps if oid == object_id}


async def _plan(client, headers, object_id, category: str) -> dict:
    response = await client.post(
        MEASURES,
        json={"object_id": str(object_id), "category": category, "planned_on": "2026-11-20"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _assess(session, object_id, day: date, kind: str = "routine") -> None:
    await session.execute(
        text(
            "INSERT INTO assessments (assessment_id, county_code, object_id, household_id,"
            " assessed_on, kind, income_per_capita_yuan, rigid_expenditure_yuan,"
            " housing_secure, education_secure, medical_secure, drinking_water_secure,"
            " actor, recorded_at)"
            " SELECT :id, county_code, object_id, household_id, :day, :kind, 9000, 500,"
            " true, true, true, true, 'test', :now FROM monitoring_objects"
            " WHERE object_id = :object_id"
        ),
        {"id": uuid.uuid4(), "object_id": object_id, "day": day, "kind": kind, "now": NOW},
    )


async def _eliminate(session, object_id, on: date) -> None:
    await session.execute(
        text(
            "UPDATE monitoring_objects SET status = 'risk_eliminated', eliminated_on = :on"
            " WHERE object_id = :id"
        ),
        {"id": object_id, "on": on},
    )


async def _gap_events(session) -> list[dict]:
    rows = await session.execute(
        text("SELECT payload FROM events WHERE type = 'assistance.gap_opened' ORDER BY id")
    )
    return [row.payload for row in rows]


async def test_new_object_has_insurance_and_development_gaps_until_measures_are_planned(
    client, session
):
    object_id = await _object(session, "H-1", days_ago=10)
    headers = await staff_headers(session)
    included = (TODAY - 10 * DAY).isoformat()

    assert _of(await _gaps(client, headers), object_id) == {
        "no_development_measure": included,
        "no_insurance_subsidy": included,
    }
    await _plan(client, headers, object_id, "insurance_subsidy")
    assert _of(await _gaps(client, headers), object_id) == {"no_development_measure": included}
    await _plan(client, headers, object_id, "industry")
    assert _of(await _gaps(client, headers), object_id) == {}


async def test_safety_net_alone_leaves_the_development_gap(client, session):
    object_id = await _object(session, "H-1", days_ago=10)
    headers = await staff_headers(session)
    await _plan(client, headers, object_id, "dibao")
    await _plan(client, headers, object_id, "insurance_subsidy")
    assert set(_of(await _gaps(client, headers), object_id)) == {"no_development_measure"}


async def test_household_without_labour_has_no_development_gap(client, session):
    no_labour = await _object(session, "H-1", days_ago=10)
    await session.execute(
        text("UPDATE members SET labour_capacity = 'none' WHERE household_id = 'H-1'")
    )
    flagged = await _object(session, "H-2", days_ago=10)
    await session.execute(
        text(
            "UPDATE monitoring_objects SET whole_household_no_labour = true WHERE object_id = :id"
        ),
        {"id": flagged},
    )
    weak = await _object(session, "H-3", days_ago=10)
    await session.execute(
        text("UPDATE members SET labour_capacity = 'weak' WHERE household_id = 'H-3'")
    )
    headers = await staff_headers(session)
    gaps = await _gaps(client, headers)
    assert set(_of(gaps, no_labour)) == {"no_insurance_subsidy"}
    assert set(_of(gaps, flagged)) == {"no_insurance_subsidy"}
    assert set(_of(gaps, weak)) == {"no_insurance_subsidy", "no_development_measure"}


async def test_cancelled_development_measure_reopens_the_gap_from_its_cancellation(client, session):
    object_id = await _object(session, "H-1", days_ago=10)
    headers = await staff_headers(session)
    measure = await _plan(client, headers, object_id, "employment")
    assert "no_development_measure" not in _of(await _gaps(client, headers), object_id)

    cancelled = await client.patch(
        f"{MEASURES}/{measure['measure_id']}", json={"status": "cancelled"}, headers=headers
    )
    assert cancelled.status_code == 200, cancelled.text
    # Cancelled at 02:00 on the 21st in Shanghai: the gap's day is the local one.
    await session.execute(
        text("UPDATE measures SET updated_at = :at WHERE measure_id = :id"),
        {"at": datetime(2026, 11, 20, 18, 0, tzinfo=UTC), "id": measure["measure_id"]},
    )
    gaps = _of(await _gaps(client, headers), object_id)
    assert gaps["no_development_measure"] == "2026-11-21"


async def test_no_measure_gap_opens_only_after_30_days(client, session):
    thirty = await _object(session, "H-1", days_ago=30)
    thirty_one = await _object(session, "H-2", days_ago=31)
    headers = await staff_headers(session)
    gaps = await _gaps(client, headers, kind="no_measure_30d")
    assert gaps == {(thirty_one, "no_measure_30d", (TODAY - DAY).isoformat())}

    await _plan(client, headers, thirty_one, "dibao")
    assert await _gaps(client, headers, kind="no_measure_30d") == set()
    assert thirty not in {oid for oid, _, _ in gaps}


async def test_visit_overdue_at_32_days_not_at_31(client, session):
    at_31 = await _object(session, "H-1", days_ago=31)
    at_32 = await _object(session, "H-2", days_ago=32)
    visited = await _object(session, "H-3", days_ago=300)
    await _assess(session, visited, TODAY - 40 * DAY, "look_back")
    await _assess(session, visited, TODAY - 32 * DAY)
    headers = await staff_headers(session)
    gaps = await _gaps(client, headers, kind="visit_overdue")
    since = (TODAY - DAY).isoformat()
    assert gaps == {(at_32, "visit_overdue", since), (visited, "visit_overdue", since)}
    assert at_31 not in {oid for oid, _, _ in gaps}

    # A visit by the API closes it, as does one recorded directly.
    visit = await client.post(
        f"/assistance/v1/monitoring_objects/{at_32}/assessments",
        json={
            "assessed_on": (TODAY - 2 * DAY).isoformat(),
            "kind": "routine",
            "income_per_capita_yuan": 8000,
            "rigid_expenditure_yuan": 600,
            "housing_secure": True,
            "education_secure": True,
            "medical_secure": True,
            "drinking_water_secure": True,
        },
        headers=headers,
    )
    assert visit.status_code == 201, visit.text
    await _assess(session, visited, TODAY - 31 * DAY)
    assert await _gaps(client, headers, kind="visit_overdue") == set()


async def test_look_back_is_due_180_days_after_elimination_or_the_last_look_back(client, session):
    due = await _object(session, "H-1", days_ago=600)
    await _eliminate(session, due, TODAY - 181 * DAY)
    not_yet = await _object(session, "H-2", days_ago=600)
    await _eliminate(session, not_yet, TODAY - 180 * DAY)
    looked_back = await _object(session, "H-3", days_ago=600)
    await _eliminate(session, looked_back, TODAY - 400 * DAY)
    await _assess(session, looked_back, TODAY - 200 * DAY, "look_back")
    await _assess(session, looked_back, TODAY - 5 * DAY)  # a routine visit is no look-back
    removed = await _object(session, "H-4", days_ago=600)
    await session.execute(
        text("UPDATE monitoring_objects SET status = 'removed' WHERE object_id = :id"),
        {"id": removed},
    )
    headers = await staff_headers(session)

    # Eliminated and removed objects have none of the other gaps.
    assert await _gaps(client, headers) == {
        (due, "look_back_due", (TODAY - DAY).isoformat()),
        (looked_back, "look_back_due", (TODAY - 20 * DAY).isoformat()),
    }
    await _assess(session, due, TODAY - DAY, "look_back")
    assert await _gaps(client, headers, kind="look_back_due") == {
        (looked_back, "look_back_due", (TODAY - 20 * DAY).isoformat())
    }


async def test_gaps_are_ordered_by_since_and_paged(client, session):
    older = await _object(session, "H-1", days_ago=20)
    newer = await _object(session, "H-2", days_ago=10)
    headers = await staff_headers(session)
    first = await client.get(
        GAPS, params={"kind": "no_insurance_subsidy", "limit": 1}, headers=headers
    )
    body = first.json()
    assert [g["object_id"] for g in body["items"]] == [str(older)]
    second = await client.get(
        GAPS,
        params={"kind": "no_insurance_subsidy", "cursor": body["next_cursor"]},
        headers=headers,
    )
    assert [g["object_id"] for g in second.json()["items"]] == [str(newer)]
    assert second.json()["next_cursor"] is None
    assert set(second.json()["items"][0]) == {
        "object_id",
        "household_id",
        "region_code",
        "kind",
        "since",
    }


async def test_unknown_kind_is_422_invalid_code(client, session):
    headers = await staff_headers(session)
    response = await client.get(GAPS, params={"kind": "no_such_gap"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "invalid_code"


async def test_township_staff_see_only_their_towns_gaps(client, session):
    ours = await _object(session, "H-1", days_ago=10)
    theirs = await _object(session, "H-2", days_ago=10, region=OTHER_TOWN_VILLAGE)
    township = await staff_headers(session, "township_staff", "610326100000")
    county = await staff_headers(session)

    assert {oid for oid, _, _ in await _gaps(client, township)} == {ours}
    assert {oid for oid, _, _ in await _gaps(client, county)} == {ours, theirs}
    assert {oid for oid, _, _ in await _gaps(client, county, region=OTHER_TOWN_VILLAGE)} == {theirs}
    outside = await client.get(GAPS, params={"region": OTHER_TOWN_VILLAGE}, headers=township)
    assert outside.status_code == 404
    viewer = await staff_headers(session, "viewer", "610326000000")
    assert (await client.get(GAPS, headers=viewer)).status_code == 403


async def test_gap_scan_emits_once_per_gap(session):
    object_id = await _object(session, "H-1", days_ago=40)
    await _assess(session, object_id, TODAY - 35 * DAY)

    first = await scan_gaps(session, now=NOW)
    assert first["noticed"] == {
        "no_development_measure": 1,
        "no_insurance_subsidy": 1,
        "no_measure_30d": 1,
        "visit_overdue": 1,
        "look_back_due": 0,
    }
    assert first["open"] == first["noticed"]
    events = await _gap_events(session)
    assert {e["kind"]: e["since"] for e in events} == {
        "no_development_measure": "2026-10-14",
        "no_insurance_subsidy": "2026-10-14",
        "no_measure_30d": "2026-11-13",
        "visit_overdue": "2026-11-19",
    }
    assert events[0]["object_id"] == str(object_id)
    assert events[0]["household_id"] == "H-1"
    assert not any("name" in e or "head_name" in e for e in events)

    second = await scan_gaps(session, now=NOW + DAY)
    assert sum(second["noticed"].values()) == 0
    assert len(await _gap_events(session)) == 4

    # A visit closes the visit gap; when it reopens, it is a new gap.
    await _assess(session, object_id, TODAY - 33 * DAY)
    third = await scan_gaps(session, now=NOW + DAY)
    assert third["noticed"]["visit_overdue"] == 1
    assert (await _gap_events(session))[-1]["since"] == "2026-11-21"


async def test_gap_scan_runs_from_its_entry_point_and_commits_once(fresh_db):
    [entry] = [ep for ep in entry_points(group="warnex.jobs") if ep.name == "gap-scan"]
    assert entry.load() is GAP_SCAN
    async with fresh_db.transaction() as session:
        await _object(session, "H-1", days_ago=10)

    first = await run_job(fresh_db, GAP_SCAN, now=NOW, manual=True)
    second = await run_job(fresh_db, GAP_SCAN, now=NOW + timedelta(hours=1), manual=True)

    assert first.startswith("ran: ")
    assert '"noticed":{"no_development_measure":1,"no_insurance_subsidy":1,' in first
    assert '"noticed":{"no_development_measure":0,"no_insurance_subsidy":0,' in second
    async with fresh_db.transaction() as session:
        assert len(await _gap_events(session)) == 2
        notices = await session.scalar(text("SELECT count(*) FROM gap_notices"))
        assert notices == 2
