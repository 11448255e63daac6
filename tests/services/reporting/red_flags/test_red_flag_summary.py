"""The red-flag summaries follow the events: after each change and its event,
the figures equal the oracle's (decided from the tables on the request), and
what the events left equals a full recount.

H5 (HH-610326-0005, village A2, one member) has nothing in the data set.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from services.reporting.red_flags.summary import RED_FLAG_EVENTS, on_events
from services.reporting.summaries import SUMMARIES, refresh_all
from shared import clock
from shared.auth import issue_token
from shared.events import EventRecord
from tests.services.reporting.dataset import COUNTY, NOW, TOWN_A, VILLAGE_A2, load_dataset
from tests.services.reporting.red_flags.oracle import oracle_counts

H5 = "HH-610326-0005"
CASE = "c0000000-0000-0000-0000-000000000501"
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


def _event(type_: str, **payload) -> EventRecord:
    return EventRecord(
        id=next(_ids),
        xid=1,
        county_code="610326",
        type=type_,
        aggregate_type="test",
        aggregate_id="test",
        actor="test",
        occurred_at=datetime.now(UTC),
        payload={"county_code": "610326", **payload},
    )


async def _flags(session, client, region: str = COUNTY) -> dict:
    _, token = await issue_token(session, kind="user", name="v", role="viewer", region_code=region)
    response = await client.get(
        "/reporting/v1/red_flags",
        params={"region": region},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = await oracle_counts(session, region_code=region, today=clock.today())
    assert (body["off_system_households"], body["should_include_households"]) == expected
    return body


async def _tables(session) -> dict[str, list[tuple]]:
    return {
        table: sorted(tuple(r) for r in await session.execute(text(f"SELECT * FROM {table}")))
        for table in ("red_flag_households", "summary_red_flags", "summary_red_flag_villages")
    }


def test_the_summaries_consumer_reads_the_red_flag_events():
    assert SUMMARIES.types >= RED_FLAG_EVENTS


async def test_each_change_moves_the_counts_as_a_recount_would(session, client):
    await load_dataset(session)
    assert (await _flags(session, client))["off_system_households"] == 0

    # A civil-affairs dibao warning matched to H5: off-system.
    await session.execute(
        text(
            "INSERT INTO warnings (warning_id, county_code, department, warning_type,"
            " source_record_id, batch_id, batch_index, id_hash, id_sealed, id_masked, name,"
            " region_code, household_id, received_at, received_on, status, late, name_mismatch)"
            " VALUES (gen_random_uuid(), '610326', 'civil_affairs', 'dibao', 'SRC-501',"
            " gen_random_uuid(), 0, decode(md5('501'), 'hex'), '\\x00'::bytea,"
            " '610326********501X', '某某', :village, :household,"
            " TIMESTAMPTZ '2026-10-01 09:00+08', DATE '2026-10-01', 'matched', false, false)"
        ),
        {"village": VILLAGE_A2, "household": H5},
    )
    warning = {"department": "civil_affairs", "warning_type": "dibao", "household_id": H5}
    await on_events(session, [_event("warning.below_threshold", **warning)])
    assert (await _flags(session, client))["off_system_households"] == 1
    assert (await _flags(session, client, VILLAGE_A2))["off_system_households"] == 1

    # A case opened for H5: no longer off-system while it is open.
    await session.execute(
        text(
            "INSERT INTO cases (case_id, county_code, household_id, region_code, source,"
            " opened_on, deadline, state, opened_by) VALUES (CAST(:case AS uuid), '610326',"
            " :household, :village, 'cadre_screening', DATE '2026-11-01', DATE '2026-11-16',"
            " 'open', 'test')"
        ),
        {"case": CASE, "household": H5, "village": VILLAGE_A2},
    )
    await on_events(session, [_event("case.opened", case_id=CASE, household_id=H5)])
    body = await _flags(session, client)
    assert (body["off_system_households"], body["should_include_households"]) == (0, 0)

    # Its household visit finds 3000 yuan a head, under the line: should be included.
    await session.execute(
        text(
            "INSERT INTO case_steps (case_id, county_code, step, done_on, actor, recorded_at,"
            " form) VALUES (CAST(:case AS uuid), '610326', 'household_visit',"
            " DATE '2026-11-05', 'test', TIMESTAMPTZ '2026-11-05 10:00+08',"
            " '{\"income_per_capita_yuan\": 3000}')"
        ),
        {"case": CASE},
    )
    await on_events(
        session,
        [_event("case.step_completed", case_id=CASE, step="household_visit", done_on="2026-11-05")],
    )
    assert (await _flags(session, client, TOWN_A))["should_include_households"] == 1

    # It is included, at risk: no household flag, and A2's one person is at risk.
    await session.execute(
        text(
            "INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,"
            " monitoring_type, risk_types, status, included_on, case_id)"
            " VALUES (gen_random_uuid(), '610326', :household, :village, 'marginal',"
            " '{illness}', 'risk_not_eliminated', DATE '2026-11-20', CAST(:case AS uuid))"
        ),
        {"case": CASE, "household": H5, "village": VILLAGE_A2},
    )
    await on_events(session, [_event("monitoring_object.included", household_id=H5)])
    body = await _flags(session, client, VILLAGE_A2)
    assert (body["off_system_households"], body["should_include_households"]) == (0, 0)
    assert body["high_ratio_regions"] == [
        {"region_code": VILLAGE_A2, "region_name": "西街村", "ratio": 1.0}
    ]

    from_events = await _tables(session)
    await refresh_all(session)
    assert await _tables(session) == from_events
