"""`GET /ingest/v1/feeds` and the feed-scan job (SPEC §3 feed cadence, §7)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points

from sqlalchemy import text

from services.warning_ingest.feeds.cadence import scan_feeds
from services.warning_ingest.jobs import FEED_SCAN
from shared.auth import issue_token
from shared.catalog import WARNING_TYPES
from shared.clock import frozen_at
from shared.scheduler import run_job

FEEDS = "/ingest/v1/feeds"
COUNTY = "610326000000"
NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PERIODIC = [t.code for t in WARNING_TYPES.values() if t.kind == "periodic"]


async def push(session, department: str, warning_type: str, at: datetime) -> None:
    await session.execute(
        text(
            "INSERT INTO feed_pushes (batch_id, warning_type, department, pushed_at, period_end)"
            " VALUES (:batch, :type, :department, :at, :period_end)"
        ),
        {
            "batch": uuid.uuid4(),
            "type": warning_type,
            "department": department,
            "at": at,
            "period_end": at.date(),
        },
    )


async def warning(session, department: str, warning_type: str, *, at: datetime, late: bool):
    await session.execute(
        text(
            "INSERT INTO warnings (county_code, warning_id, department, warning_type,"
            " source_record_id, batch_id, batch_index, id_hash, id_sealed, id_masked, name,"
            " region_code, event_date, received_at, received_on, status, late, name_mismatch)"
            " VALUES ('610326', :id, :department, :type, :source, :batch, 0, '\\x00', '\\x00',"
            " '610326********123X', '张三', :region, :event_date, :at, :on, 'unmatched',"
            " :late, false)"
        ),
        {
            "id": uuid.uuid4(),
            "department": department,
            "type": warning_type,
            "source": uuid.uuid4().hex,
            "batch": uuid.uuid4(),
            "region": COUNTY,
            "event_date": (at - 10 * DAY).date(),
            "at": at,
            "on": at.date(),
            "late": late,
        },
    )


async def client_headers(session, department: str) -> dict[str, str]:
    _, token = await issue_token(session, kind="client", name=department, department=department)
    return {"Authorization": f"Bearer {token}"}


async def user_headers(session, role: str = "township_staff") -> dict[str, str]:
    region = "610326100000" if role == "township_staff" else COUNTY
    _, token = await issue_token(session, kind="user", name=role, role=role, region_code=region)
    return {"Authorization": f"Bearer {token}"}


async def get_feeds(client, headers, **params):
    with frozen_at(NOW):
        return await client.get(FEEDS, headers=headers, params=params)


def by_type(body: dict) -> dict[str, dict]:
    return {item["warning_type"]: item for item in body["items"]}


# ------------------------------------------------------------------ states


async def test_feed_states_follow_the_last_push_and_the_cadence(client, session):
    # Civil affairs pushes every 15 days (shipped policy).
    await push(session, "civil_affairs", "dibao", NOW - 16 * DAY)  # due a day ago
    await push(session, "civil_affairs", "tekun", NOW - 14 * DAY)  # due in a day
    await push(session, "civil_affairs", "left_behind_child", NOW - 13 * DAY)  # two days left
    await push(session, "civil_affairs", "temporary_assistance", NOW - 40 * DAY)
    await push(session, "civil_affairs", "temporary_assistance", NOW - 3 * DAY)  # latest counts
    response = await get_feeds(client, await client_headers(session, "civil_affairs"))

    assert response.status_code == 200
    feeds = by_type(response.json())
    assert {code: feed["state"] for code, feed in feeds.items()} == {
        "dibao": "late",
        "tekun": "due_soon",
        "temporary_assistance": "on_time",
        "lonely_elderly": "never_pushed",
        "left_behind_child": "due_soon",
    }
    assert datetime.fromisoformat(feeds["dibao"]["next_due_at"]) == NOW - DAY
    assert datetime.fromisoformat(feeds["temporary_assistance"]["last_push_at"]) == NOW - 3 * DAY
    assert datetime.fromisoformat(feeds["temporary_assistance"]["next_due_at"]) == NOW + 12 * DAY
    assert feeds["lonely_elderly"]["last_push_at"] is None
    assert feeds["lonely_elderly"]["next_due_at"] is None
    assert feeds["dibao"]["cadence_days"] == 15
    assert feeds["dibao"]["department_label"] == "民政局"
    assert feeds["dibao"]["warning_type_label"] == "新纳入或申请低保"


async def test_a_feed_is_late_only_once_its_due_time_has_passed(client, session):
    await push(session, "housing", "unsafe_housing", NOW - 15 * DAY)  # due exactly now
    response = await get_feeds(client, await client_headers(session, "housing"))
    assert by_type(response.json())["unsafe_housing"]["state"] == "due_soon"


# ------------------------------------------------------------------ who sees what


async def test_a_client_sees_only_its_own_department(client, session):
    headers = await client_headers(session, "civil_affairs")
    response = await get_feeds(client, headers)
    assert [item["warning_type"] for item in response.json()["items"]] == [
        "dibao",
        "tekun",
        "temporary_assistance",
        "lonely_elderly",
        "left_behind_child",
    ]
    assert {row["department"] for row in response.json()["late_records"]} <= {"civil_affairs"}
    assert (await get_feeds(client, headers, department="civil_affairs")).status_code == 200
    assert (await get_feeds(client, headers, department="housing")).status_code == 404


async def test_staff_see_every_periodic_feed_in_catalog_order(client, session):
    response = await get_feeds(client, await user_headers(session, "village_staff"))
    assert response.status_code == 200
    items = response.json()["items"]
    # high_medical_expense twice, one feed per population (SPEC §12).
    assert [item["warning_type"] for item in items] == ["high_medical_expense", *PERIODIC]
    assert [item["population"] for item in items[:3]] == [
        "monitored_and_alleviated",
        "general",
        "all",
    ]
    assert [item["cadence_days"] for item in items[:2]] == [10, 30]
    assert {item["population"] for item in items[2:]} == {"all"}
    assert len(items) >= 13
    assert all(item["state"] == "never_pushed" for item in items)
    assert "epidemic_impact" not in {item["warning_type"] for item in items}


async def test_staff_and_admins_may_filter_by_department(client, session):
    for role in ("county_staff", "admin"):
        response = await get_feeds(client, await user_headers(session, role), department="health")
        assert [item["warning_type"] for item in response.json()["items"]] == ["serious_illness"]


async def test_an_unknown_department_is_invalid_code(client, session):
    for headers in (await user_headers(session), await client_headers(session, "water")):
        response = await get_feeds(client, headers, department="police")
        assert response.status_code == 422
        assert response.json()["errors"][0] == {
            "field": "department",
            "code": "invalid_code",
            "message": "not a department code of the catalog",
        }


async def test_feeds_need_a_token_and_are_not_for_viewers(client, session):
    assert (await get_feeds(client, {})).status_code == 401
    assert (await get_feeds(client, await user_headers(session, "viewer"))).status_code == 403


# ------------------------------------------------------------------ late records


async def test_late_records_count_late_warnings_of_the_last_30_days(client, session):
    await warning(session, "health", "epidemic_impact", at=NOW - 2 * DAY, late=True)
    await warning(session, "health", "epidemic_impact", at=NOW - 29 * DAY, late=True)
    await warning(session, "health", "epidemic_impact", at=NOW - 31 * DAY, late=True)  # too old
    await warning(session, "health", "epidemic_impact", at=NOW - DAY, late=False)  # on time
    await warning(session, "emergency_management", "disaster", at=NOW - DAY, late=True)
    response = await get_feeds(client, await user_headers(session))

    body = response.json()
    assert by_type(body)["serious_illness"]["late_records_30d"] == 2
    assert by_type(body)["dibao"]["late_records_30d"] == 0
    late = {
        (r["department"], r["warning_type"]): r["late_records_30d"] for r in body["late_records"]
    }
    assert late == {
        ("health", "epidemic_impact"): 2,
        ("emergency_management", "disaster"): 1,
        ("education", "school_dropout"): 0,
        ("agriculture", "industry_risk"): 0,
    }


# ------------------------------------------------------------------ the scan


async def late_events(session, aggregate_id: str) -> list[dict]:
    rows = await session.execute(
        text(
            "SELECT county_code, payload FROM events"
            " WHERE type = 'feed.late' AND aggregate_type = 'feed' AND aggregate_id = :id"
            " ORDER BY id"
        ),
        {"id": aggregate_id},
    )
    return [{"county_code": r.county_code, **r.payload} for r in rows]


async def test_the_scan_announces_a_missed_due_time_once(session):
    pushed = NOW - 20 * DAY
    await push(session, "water", "unsafe_drinking_water", pushed)
    await push(session, "housing", "unsafe_housing", NOW - DAY)  # not due yet

    first = await scan_feeds(session, now=NOW)
    second = await scan_feeds(session, now=NOW + DAY)

    assert first == {"late_feeds": 1, "noticed": 1}
    assert second == {"late_feeds": 1, "noticed": 0}
    [event] = await late_events(session, "water:unsafe_drinking_water")
    assert event["county_code"] == "000000"
    assert event["department"] == "water"
    assert event["warning_type"] == "unsafe_drinking_water"
    assert datetime.fromisoformat(event["due_at"]) == pushed + 15 * DAY
    assert datetime.fromisoformat(event["last_push_at"]) == pushed
    assert await late_events(session, "housing:unsafe_housing") == []
    # Never pushed: no due time, so nothing to announce.
    assert await late_events(session, "civil_affairs:dibao") == []


async def test_a_new_push_missed_again_is_a_new_event(session):
    await push(session, "water", "unsafe_drinking_water", NOW - 20 * DAY)
    await scan_feeds(session, now=NOW)
    await push(session, "water", "unsafe_drinking_water", NOW)
    assert await scan_feeds(session, now=NOW + 14 * DAY) == {"late_feeds": 0, "noticed": 0}

    assert await scan_feeds(session, now=NOW + 16 * DAY) == {"late_feeds": 1, "noticed": 1}
    events = await late_events(session, "water:unsafe_drinking_water")
    assert [datetime.fromisoformat(e["due_at"]) for e in events] == [
        NOW - 5 * DAY,
        NOW + 15 * DAY,
    ]


async def test_feed_scan_runs_from_its_entry_point_and_commits_once(fresh_db):
    [entry] = [ep for ep in entry_points(group="warnex.jobs") if ep.name == "feed-scan"]
    job = entry.load()
    assert job is FEED_SCAN
    async with fresh_db.transaction() as session:
        await push(session, "health", "serious_illness", NOW - 30 * DAY)

    first = await run_job(fresh_db, job, now=NOW, manual=True)
    second = await run_job(fresh_db, job, now=NOW + timedelta(hours=1), manual=True)

    assert first == 'ran: {"late_feeds":1,"noticed":1}'
    assert second == 'ran: {"late_feeds":1,"noticed":0}'
    async with fresh_db.transaction() as session:
        assert len(await late_events(session, "health:serious_illness")) == 1
