"""`high_medical_expense` is two feeds, one per population (SPEC §12; API.md
"warning_ingest: feedback pushed, and rosters"): the persons of poverty-alleviated
households and of households with an active monitoring object every 10 days,
everyone else every 30. A push counts for a population when it holds a record of
a person of it, or is a zero report; the feed list and the feed scan agree.

Pushes go through `POST /ingest/v1/batches` (both push paths) at times the test
sets; states are read at later times it sets.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from services.warning_ingest.feeds.cadence import scan_feeds
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

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)
FEEDS = "/ingest/v1/feeds"
MONITORED = "monitored_and_alleviated"
ALLEVIATED_PERSON, GENERAL_PERSON, MONITORED_PERSON, UNKNOWN_PERSON = 1, 2, 3, 99


@pytest.fixture
async def registry(session):
    """An alleviated household (person 1), a general one (person 2) and a
    general one with an active monitoring object (person 3)."""
    await register(session, "H-A", [ALLEVIATED_PERSON], category="poverty_alleviated")
    await register(session, "H-G", [GENERAL_PERSON], category="general")
    await register(session, "H-M", [MONITORED_PERSON, 4], category="general")
    await session.execute(
        text(
            "INSERT INTO monitoring_objects (object_id, county_code, household_id,"
            " region_code, monitoring_type, risk_types, status, included_on, case_id)"
            " VALUES (:object_id, '610326', 'H-M', :region, 'marginal', ARRAY['illness'],"
            " 'risk_not_eliminated', :included_on, :case_id)"
        ),
        {
            "object_id": uuid.uuid4(),
            "region": VILLAGE,
            "included_on": date(2026, 6, 1),
            "case_id": uuid.uuid4(),
        },
    )


async def push_at(client, session, at: datetime, *people: int) -> None:
    """A batch of medical-expense records of `people` (none: a zero report) at `at`."""
    records = [
        record(seq, "high_medical_expense", amount_yuan=20000, source_record_id=uuid.uuid4().hex)
        for seq in people
    ]
    headers = await department_headers(session, "medical_insurance")
    with clock.frozen_at(at):
        response = await client.post(BATCHES, json={"records": records}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == len(people)


async def medical_feeds(client, session, at: datetime) -> dict[str, dict]:
    """The high_medical_expense feeds at `at`, by population."""
    headers = await department_headers(session, "medical_insurance")
    with clock.frozen_at(at):
        response = await client.get(FEEDS, headers=headers)
    assert response.status_code == 200, response.text
    items = [i for i in response.json()["items"] if i["warning_type"] == "high_medical_expense"]
    assert len(items) == 2
    return {i["population"]: i for i in items}


def summary(feed: dict) -> tuple:
    last = feed["last_push_at"] and datetime.fromisoformat(feed["last_push_at"])
    return feed["state"], last, feed["cadence_days"]


@pytest.mark.usefixtures("registry")
async def test_a_record_of_an_alleviated_person_pushes_only_the_monitored_feed(client, session):
    await push_at(client, session, T0, ALLEVIATED_PERSON)

    feeds = await medical_feeds(client, session, T0 + DAY)
    assert summary(feeds[MONITORED]) == ("on_time", T0, 10)
    assert summary(feeds["general"]) == ("never_pushed", None, 30)
    feeds = await medical_feeds(client, session, T0 + 9 * DAY)
    assert feeds[MONITORED]["state"] == "due_soon"
    feeds = await medical_feeds(client, session, T0 + 10 * DAY + timedelta(seconds=1))
    assert feeds[MONITORED]["state"] == "late"
    assert datetime.fromisoformat(feeds[MONITORED]["next_due_at"]) == T0 + 10 * DAY


@pytest.mark.usefixtures("registry")
async def test_a_record_of_a_monitored_household_counts_like_an_alleviated_one(client, session):
    await push_at(client, session, T0, ALLEVIATED_PERSON)
    await push_at(client, session, T0 + 8 * DAY, MONITORED_PERSON)  # a general household

    feeds = await medical_feeds(client, session, T0 + 12 * DAY)
    assert summary(feeds[MONITORED]) == ("on_time", T0 + 8 * DAY, 10)
    assert feeds["general"]["state"] == "never_pushed"


@pytest.mark.usefixtures("registry")
async def test_the_general_feed_is_due_30_days_after_a_general_record(client, session):
    await push_at(client, session, T0, GENERAL_PERSON)
    await push_at(client, session, T0 + 20 * DAY, UNKNOWN_PERSON)  # not in the registry: general

    feeds = await medical_feeds(client, session, T0 + 25 * DAY)
    assert summary(feeds["general"]) == ("on_time", T0 + 20 * DAY, 30)
    assert feeds[MONITORED]["state"] == "never_pushed"
    feeds = await medical_feeds(client, session, T0 + 48 * DAY)
    assert feeds["general"]["state"] == "due_soon"
    feeds = await medical_feeds(client, session, T0 + 51 * DAY)
    assert feeds["general"]["state"] == "late"
    assert datetime.fromisoformat(feeds["general"]["next_due_at"]) == T0 + 50 * DAY


@pytest.mark.usefixtures("registry")
async def test_one_batch_with_both_populations_and_a_zero_report_push_both(client, session):
    await push_at(client, session, T0, GENERAL_PERSON, ALLEVIATED_PERSON)
    feeds = await medical_feeds(client, session, T0 + DAY)
    assert {p: f["last_push_at"] for p, f in feeds.items()} == {
        MONITORED: "2026-11-01T02:00:00Z",
        "general": "2026-11-01T02:00:00Z",
    }
    await push_at(client, session, T0 + 5 * DAY)  # nothing to report (零报告)
    feeds = await medical_feeds(client, session, T0 + 11 * DAY)
    assert summary(feeds[MONITORED]) == ("on_time", T0 + 5 * DAY, 10)
    assert summary(feeds["general"]) == ("on_time", T0 + 5 * DAY, 30)


async def late_events(session) -> list[tuple]:
    rows = await session.execute(
        text(
            "SELECT aggregate_id, payload->>'population', payload->>'due_at' FROM events"
            " WHERE type = 'feed.late' AND payload->>'warning_type' = 'high_medical_expense'"
            " ORDER BY id"
        )
    )
    return [tuple(r) for r in rows]


@pytest.mark.usefixtures("registry")
async def test_the_feed_scan_raises_each_population_late_apart(client, session):
    await push_at(client, session, T0, ALLEVIATED_PERSON, GENERAL_PERSON)

    # Day 9: nothing late. Day 11: the monitored feed only, once however often it runs.
    assert (await scan_feeds(session, now=T0 + 9 * DAY))["noticed"] == 0
    await scan_feeds(session, now=T0 + 11 * DAY)
    await scan_feeds(session, now=T0 + 12 * DAY)
    assert await late_events(session) == [
        (
            "medical_insurance:high_medical_expense:monitored_and_alleviated",
            MONITORED,
            "2026-11-11T02:00:00+00:00",
        ),
    ]
    # A record of a monitored person on day 12 sets a new due time (day 22);
    # day 31 finds both late: the general feed's first due time, the monitored second.
    await push_at(client, session, T0 + 12 * DAY, MONITORED_PERSON)
    await scan_feeds(session, now=T0 + 31 * DAY)
    events = await late_events(session)
    assert sorted(e[1:] for e in events[1:]) == [
        ("general", "2026-12-01T02:00:00+00:00"),
        (MONITORED, "2026-11-23T02:00:00+00:00"),
    ]
    assert (await scan_feeds(session, now=T0 + 32 * DAY))["noticed"] == 0


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("people", "populations"),
    [
        # The general person only in the last chunk; alleviated in the first.
        ((ALLEVIATED_PERSON, MONITORED_PERSON, 4, 5, GENERAL_PERSON), {MONITORED, "general"}),
        ((5, 6, 7, UNKNOWN_PERSON), {"general"}),  # nobody of the registry's roster
        ((4, MONITORED_PERSON, ALLEVIATED_PERSON), {MONITORED}),
    ],
)
async def test_a_batch_in_chunks_pushes_the_populations_of_all_its_chunks(
    client, session, monkeypatch, people, populations
):
    from services.warning_ingest.batches import small_push, storing

    monkeypatch.setattr(small_push, "SMALL_PUSH_MAX", -1)
    monkeypatch.setattr(storing, "CHUNK_RECORDS", 2)
    # Person 4 is of household H-M (monitored); 5, 6, 7 are unknown (general).
    await push_at(client, session, T0, *people)
    rows = await session.execute(
        text("SELECT population FROM feed_pushes WHERE warning_type = 'high_medical_expense'")
    )
    assert {r.population for r in rows} == populations
