"""Persons in the figures follow the registry: a household reloaded with more
members moves its object's persons through the `reporting.summaries` consumer,
as a full recount would."""

from __future__ import annotations

from sqlalchemy import text

from services.reporting.figures import Grouping, Period, figures_by_group
from services.reporting.summaries import _on_events, refresh_all
from shared.events import EventRecord
from tests.services.reporting.dataset import COUNTY, DEFAULT_PERIOD, TODAY, load_dataset
from tests.services.warning_ingest.ingest_helpers import register

TABLES = ("summary_objects", "summary_object_events", "summary_object_risks")


async def _objects(session) -> dict:
    groups = await figures_by_group(
        session, grouping=Grouping.of_region(COUNTY), period=Period(*DEFAULT_PERIOD), today=TODAY
    )
    return groups[COUNTY[:6]]["monitoring_objects"]


async def _rows(session) -> dict[str, list[tuple]]:
    return {
        table: sorted(tuple(row) for row in await session.execute(text(f"SELECT * FROM {table}")))
        for table in TABLES
    }


async def test_a_reloaded_household_moves_its_objects_persons(session):
    await load_dataset(session)
    before = await _objects(session)
    # dataset_figures.py: O1 (H1, 2 members) is unstable_alleviated, at risk, included
    # 2026-03-11 with the illness risk type.
    assert before["persons"]["by_type"]["unstable_alleviated"] == 4
    assert before["persons"]["by_status"]["risk_not_eliminated"] == 6
    mark = await session.scalar(text("SELECT coalesce(max(id), 0) FROM events"))

    # H1 reloaded with three members instead of two.
    await register(session, "HH-610326-0001", [101, 102, 103], category="poverty_alleviated")
    rows = await session.execute(
        text(
            "SELECT id, xid, county_code, type, aggregate_type, aggregate_id, actor,"
            " occurred_at, payload FROM events WHERE id > :mark ORDER BY id"
        ),
        {"mark": mark},
    )
    events = [EventRecord(**row._mapping) for row in rows]
    assert events
    await _on_events(session, events)

    after = await _objects(session)
    # O1 now counts 3: unstable_alleviated 3 + O3's 2 = 5; at risk 6 - 2 + 3 = 7;
    # newly included unstable_alleviated 5 likewise. Households do not move.
    assert after["persons"]["by_type"]["unstable_alleviated"] == 5
    assert after["persons"]["by_status"]["risk_not_eliminated"] == 7
    assert after["persons"]["newly_included"]["unstable_alleviated"] == 5
    assert after["by_type"] == before["by_type"]
    assert after["by_risk_type"] == before["by_risk_type"]

    from_events = await _rows(session)
    await refresh_all(session)
    assert await _rows(session) == from_events
