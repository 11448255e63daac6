"""The reporting summaries: the event-driven recount equals a full recount, a
status change moves its count, whole months add up to their days, and the
consumer keeps the figures current on real commits."""

from __future__ import annotations

import asyncio
import random
import statistics
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from services.reporting.buckets import BUCKETS, bucket_params
from services.reporting.figures import MEDIANS, Grouping, Period, figures_by_group
from services.reporting.summaries import SUMMARIES, _on_events, recount, refresh_all
from shared import clock
from shared.db import Database
from shared.events import EventRecord, position
from shared.models import metadata
from tests.services.identification.cases.test_cases_from_warnings import (
    fresh_client as fresh_client,  # a fixture
)
from tests.services.identification.id_helpers import register, staff_headers
from tests.services.identification.steps.step_helpers import NOW, through
from tests.services.identification.steps.test_flow import PUSHED_AT, _staff
from tests.services.reporting.dataset import (
    COUNTY as DATASET_COUNTY,
)
from tests.services.reporting.dataset import (
    load_dataset,
)
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    COUNTY,
    department_headers,
    record,
)

# Every summary table, so that a new one is compared too.
SUMMARY_TABLES = tuple(t.name for t in metadata.sorted_tables if t.name.startswith("summary_"))
OVERVIEW = "/reporting/v1/overview"


async def _events(session, after_id: int = 0) -> list[EventRecord]:
    rows = await session.execute(
        text(
            "SELECT id, xid, county_code, type, aggregate_type, aggregate_id, actor,"
            " occurred_at, payload FROM events WHERE id > :after ORDER BY id"
        ),
        {"after": after_id},
    )
    return [EventRecord(**row._mapping) for row in rows]


async def _summaries(session) -> dict[str, list[tuple]]:
    tables = {}
    for table in SUMMARY_TABLES:
        rows = await session.execute(text(f"SELECT * FROM {table}"))
        tables[table] = sorted(tuple(row) for row in rows)
    return tables


async def _clear(session) -> None:
    for table in SUMMARY_TABLES:
        await session.execute(text(f"DELETE FROM {table}"))


async def _overview(client, session) -> dict:
    headers = await staff_headers(session, "viewer")
    response = await client.get(OVERVIEW, params={"region": COUNTY}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_counts_from_the_events_of_a_flow_equal_a_full_recount(client, session):
    await register(session, "H-1", [1])
    await register(session, "H-2", [2])
    department = await department_headers(session, "health")
    with clock.frozen_at(PUSHED_AT):
        body = {
            "records": [
                record(1, "serious_illness", source_record_id="S-1"),
                record(2, "serious_illness", source_record_id="S-2"),
                record(9, "serious_illness", source_record_id="S-9"),  # nobody registered
            ]
        }
        receipt = (await client.post(BATCHES, json=body, headers=department)).json()
        assert receipt["accepted"] == 3, receipt
        from services.identification.cases.opening import open_cases_for_warnings

        accepted = [e for e in await _events(session) if e.type == "warning.accepted"]
        await open_cases_for_warnings(session, accepted, decision_days=15, actor="test")
    cases = (
        await client.get(
            "/identification/v1/cases",
            params={"state": "open"},
            headers=await staff_headers(session),
        )
    ).json()["items"]
    first = next(c for c in cases if c["household_id"] == "H-1")
    with clock.frozen_at(NOW):
        staff = await _staff(session)
        await through(
            client,
            first,
            staff,
            "household_visit",
            "village_review",
            "township_review",
            "county_approval",
        )

    await _clear(session)
    await _on_events(session, await _events(session))
    from_events = await _summaries(session)
    assert from_events["summary_warnings"] and from_events["summary_objects"]

    await refresh_all(session)
    recounted = await _summaries(session)
    for table in SUMMARY_TABLES:
        assert recounted[table] == from_events[table], table

    with clock.frozen_at(NOW):
        figures = await _overview(client, session)
    assert (figures["warnings"]["received"], figures["warnings"]["unmatched"]) == (3, 1)
    assert figures["warnings"]["by_department"]["health"] == 3
    cases_figures = figures["cases"]
    assert (cases_figures["opened"], cases_figures["decided"], cases_figures["open"]) == (2, 1, 1)
    assert figures["monitoring_objects"]["by_status"]["risk_not_eliminated"] == 1


async def test_resolving_an_unmatched_warning_moves_its_count(client, session):
    department = await department_headers(session, "civil_affairs")
    receipt = (await client.post(BATCHES, json={"records": [record(5)]}, headers=department)).json()
    await _on_events(session, await _events(session))
    before = (await _overview(client, session))["warnings"]
    assert (before["received"], before["unmatched"], before["matched"]) == (1, 1, 0)

    mark = await session.scalar(text("SELECT max(id) FROM events"))
    await register(session, "H-5", [5])
    warning_id = receipt["records"][0]["warning_id"]
    resolved = await client.post(
        f"/ingest/v1/warnings/{warning_id}/resolve",
        json={"action": "match", "household_id": "H-5"},
        headers=await staff_headers(session),
    )
    assert resolved.status_code == 200, resolved.text
    await _on_events(session, await _events(session, mark))
    after = (await _overview(client, session))["warnings"]
    assert (after["received"], after["unmatched"], after["matched"]) == (1, 0, 1)


def _period(period: Period) -> dict[str, date]:
    return {"date_from": period.date_from, "date_to": period.date_to}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_county_figures_over_whole_months_equal_the_village_days(session, seed):
    """The county grain adds months and edge days; the village grain only days.
    Over any period both give the county the same counts."""
    await load_dataset(session)
    chooser = random.Random(seed)
    for _ in range(5):
        start = date(2025, 10, 1) + timedelta(days=chooser.randrange(300))
        period = Period(start, start + timedelta(days=chooser.randrange(1, 200)))
        county = (
            await figures_by_group(
                session,
                grouping=Grouping.of_region(DATASET_COUNTY),
                period=period,
                today=date(2026, 11, 23),
            )
        )[DATASET_COUNTY[:6]]
        village_rows = await session.execute(
            text(
                "SELECT coalesce(sum(n), 0) AS received,"
                " coalesce(sum(n) FILTER (WHERE late), 0) AS late"
                " FROM summary_warnings WHERE grain = 'village' AND bucket = 'day'"
                " AND county_code = :county"
                " AND day BETWEEN :date_from AND :date_to"
            ),
            {
                "county": DATASET_COUNTY[:6],
                "date_from": period.date_from,
                "date_to": period.date_to,
            },
        )
        received, late = village_rows.one()
        assert (county["warnings"]["received"], county["warnings"]["late"]) == (received, late)
        opened = await session.scalar(
            text(
                "SELECT count(*) FROM cases WHERE county_code = :county"
                " AND opened_on BETWEEN :date_from AND :date_to"
            ),
            {
                "county": DATASET_COUNTY[:6],
                "date_from": period.date_from,
                "date_to": period.date_to,
            },
        )
        assert county["cases"]["opened"] == opened


async def test_recounting_one_county_keeps_its_city_and_province_rows_in_step(session):
    """City and province rows add up every county inside them; a recount of one
    county must change them by that county's change alone."""
    await load_dataset(session)
    county = DATASET_COUNTY[:6]
    await session.execute(
        text(
            "UPDATE cases SET state = 'decided', decided_on = opened_on + 3"
            " WHERE county_code = :county AND state = 'open'"
        ),
        {"county": county},
    )
    await session.execute(
        text("DELETE FROM measures WHERE county_code = :county AND status = 'planned'"),
        {"county": county},
    )
    families = {family: {county} for family in ("cases", "objects", "measures", "persons")}
    await recount(session, families=families)
    in_step = await _summaries(session)
    await _clear(session)
    await refresh_all(session)
    assert await _summaries(session) == in_step
    rows = in_step["summary_open_cases"]
    assert {row[0] for row in rows if row[1] == "province"} == {"610000"}


def _days_counted(params: dict[str, list[date]]) -> Counter:
    """Each day the planned rows add up, with how many times (negative: taken away)."""
    counted: Counter = Counter()
    for bucket in BUCKETS:
        for name, sign in (("plus", 1), ("less", -1)):
            for first in params[f"{bucket}_{name}"]:
                day = first
                while day == first or (
                    bucket != "day"
                    and (day.month == first.month or bucket == "year")
                    and day.year == first.year
                ):
                    counted[day] += sign
                    day += timedelta(days=1)
    return Counter({day: n for day, n in counted.items() if n})


@pytest.mark.parametrize("seed", range(10))
def test_the_rows_planned_for_a_period_count_each_of_its_days_once(seed):
    chooser = random.Random(seed)
    for _ in range(200):
        start = date(2024, 1, 1) + timedelta(days=chooser.randrange(1000))
        period = Period(start, start + timedelta(days=chooser.randrange(0, 800)))
        expected = Counter(
            period.date_from + timedelta(days=i)
            for i in range((period.date_to - period.date_from).days + 1)
        )
        assert _days_counted(bucket_params(period.date_from, period.date_to)) == expected, period


def test_a_period_ending_today_reads_its_year_less_what_is_still_to_come():
    plan = bucket_params(date(2026, 1, 1), date(2026, 11, 24))
    assert plan["year_plus"] == [date(2026, 1, 1)]
    assert plan["month_less"] == [date(2026, 12, 1)]
    assert plan["day_less"] == [date(2026, 11, d) for d in range(25, 31)]
    assert not (plan["month_plus"] or plan["day_plus"] or plan["year_less"])
    early = bucket_params(date(2026, 3, 1), date(2026, 5, 3))  # 3 days, not 28 taken away
    assert early["month_plus"] == [date(2026, 3, 1), date(2026, 4, 1)]
    assert early["day_plus"] == [date(2026, 5, d) for d in (1, 2, 3)]


@pytest.mark.parametrize("seed", range(20))
async def test_median_of_a_histogram_is_the_median_of_its_values(session, seed):
    chooser = random.Random(seed)
    groups = {g: [chooser.randrange(0, 40) for _ in range(chooser.randrange(1, 30))] for g in "ab"}
    histogram = [(g, day, values.count(day)) for g, values in groups.items() for day in set(values)]
    rows = await session.execute(
        text(
            "WITH histogram AS (SELECT * FROM unnest(CAST(:g AS text[]), CAST(:days AS int[]),"
            f" CAST(:n AS bigint[])) AS h(g, days, n)), {MEDIANS}"
            " SELECT g, median_days FROM medians"
        ),
        {"g": [h[0] for h in histogram], "days": [h[1] for h in histogram],
         "n": [h[2] for h in histogram]},
    )  # fmt: skip
    medians = {g: float(median) for g, median in rows}
    assert medians == {g: pytest.approx(statistics.median(v)) for g, v in groups.items()}


# ------------------------------------------------------------ on real commits


async def test_the_consumer_keeps_the_figures_current(fresh_db: Database, fresh_client):
    async with fresh_db.transaction() as session:
        await register(session, "H-1", [1])
        headers = await department_headers(session, "civil_affairs")
    pushed = await fresh_client.post(
        BATCHES, json={"records": [record(1), record(2)]}, headers=headers
    )
    assert pushed.json()["accepted"] == 2

    async with fresh_db.transaction() as session:
        last = await session.execute(text("SELECT xid, id FROM events ORDER BY xid DESC, id DESC"))
        target = tuple(last.first())
    async with asyncio.timeout(10):
        while await position(fresh_db, SUMMARIES.name) < target:
            await SUMMARIES.drain(fresh_db)
            await asyncio.sleep(0.01)

    async with fresh_db.transaction() as session:
        groups = await figures_by_group(
            session,
            grouping=Grouping.of_region(f"{COUNTY[:6]}000000"),
            period=Period.year_to_date(clock.today()),
            today=clock.today(),
        )
    warnings = groups[COUNTY[:6]]["warnings"]
    assert (warnings["received"], warnings["matched"], warnings["unmatched"]) == (2, 1, 1)
