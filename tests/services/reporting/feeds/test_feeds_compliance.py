"""`GET /reporting/v1/feeds`: every periodic feed's state and its compliance
over a period, against the hand-checked data set (dataset.py's F1-F5).

Windows are cut from date_from in Shanghai days; only windows wholly inside the
period and ended by TODAY (2026-11-23) are expected.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared import clock
from shared.auth import issue_token
from shared.catalog import WARNING_TYPES
from tests.services.reporting.dataset import (
    COUNTY,
    NOW,
    OTHER_COUNTY,
    TOWN_A,
    load_dataset,
)

FEEDS = "/reporting/v1/feeds"
PERIODIC = {(t.department, t.code) for t in WARNING_TYPES.values() if t.kind == "periodic"}
# high_medical_expense is two feeds (SPEC §12): F1 and F2 are the first's.
MEDICAL = ("medical_insurance", "high_medical_expense", "monitored_and_alleviated")
GENERAL = ("medical_insurance", "high_medical_expense", "general")


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def data(session):
    await load_dataset(session)


async def _user(session, role: str = "viewer", region: str = COUNTY) -> dict[str, str]:
    _, token = await issue_token(session, kind="user", name=role, role=role, region_code=region)
    return {"Authorization": f"Bearer {token}"}


async def _rows(client, headers, **params) -> dict[tuple[str, str], dict]:
    response = await client.get(FEEDS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return {_key(r): r for r in items}


def _key(row: dict) -> tuple:
    # A feed of population "all" by (department, type); a per-population one with it.
    key = (row["department"], row["warning_type"])
    return key if row["population"] == "all" else (*key, row["population"])


def _compliance(row: dict) -> tuple:
    return row["expected_pushes"], row["on_time_pushes"], row["on_time_rate"]


async def test_every_department_and_periodic_type_is_listed(session, client, data):
    response = await client.get(FEEDS, headers=await _user(session))
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"date_from": "2026-01-01", "date_to": "2026-11-23"}
    keys = [_key(r) for r in body["items"]]
    assert len(keys) == len(PERIODIC) + 1 == 13  # high_medical_expense twice
    assert {k[:2] for k in keys} == PERIODIC
    assert {k[2] for k in keys if len(k) == 3} == {"monitored_and_alleviated", "general"}
    general = body["items"][keys.index(GENERAL)]
    assert (general["state"], general["cadence_days"]) == ("never_pushed", 30)
    assert body["items"][keys.index(MEDICAL)]["cadence_days"] == 10
    states = {k: r["state"] for k, r in zip(keys, body["items"], strict=True)}
    assert states[MEDICAL] == "on_time"
    assert states[("civil_affairs", "dibao")] == "due_soon"
    assert states[("housing", "unsafe_housing")] == "late"
    assert sum(s == "never_pushed" for s in states.values()) == 10
    dibao = body["items"][keys.index(("civil_affairs", "dibao"))]
    assert dibao["cadence_days"] == 15
    assert dibao["last_push_at"] == "2026-11-09T12:00:00Z"
    assert dibao["next_due_at"] == "2026-11-24T12:00:00Z"  # last push + 15 days


async def test_compliance_counts_windows_with_a_push(session, client, data):
    # 2026-10-01..2026-11-23 is 54 days.
    # dibao (15 d): 54 // 15 = 3 windows 10-01..10-15, 10-16..10-30, 10-31..11-14;
    #   F3 10-20 08:00 local is in the second, F4 11-09 20:00 local in the third: 2 of 3.
    # high_medical_expense (10 d): 5 windows up to 11-10..11-19; F1 (11-10 10:00 local)
    #   is in the fifth; F2 (11-20) is in the sixth, still open: 1 of 5.
    # unsafe_housing (15 d): F5 11-01 08:00 local in the third window: 1 of 3.
    # tekun (15 d), never pushed: 0 of 3.
    rows = await _rows(client, await _user(session), date_from="2026-10-01")
    assert _compliance(rows[("civil_affairs", "dibao")]) == (3, 2, 0.6667)
    assert _compliance(rows[MEDICAL]) == (5, 1, 0.2)
    assert _compliance(rows[("housing", "unsafe_housing")]) == (3, 1, 0.3333)
    assert _compliance(rows[("civil_affairs", "tekun")]) == (3, 0, 0.0)


async def test_windows_are_local_days_and_a_window_counts_once(session, client, data):
    # Two more dibao pushes on 10-15 local (15:30Z = 23:30 in Shanghai; 10:00Z):
    # the first window is now on time, once; 16:30Z (10-16 00:30 local) would not be.
    await session.execute(
        text(
            "INSERT INTO feed_pushes (batch_id, warning_type, department, pushed_at, period_end)"
            " VALUES (CAST('f0000000-0000-0000-0000-000000000021' AS uuid), 'dibao',"
            "         'civil_affairs', TIMESTAMPTZ '2026-10-15T15:30:00Z', DATE '2026-10-14'),"
            "        (CAST('f0000000-0000-0000-0000-000000000022' AS uuid), 'dibao',"
            "         'civil_affairs', TIMESTAMPTZ '2026-10-15T10:00:00Z', DATE '2026-10-14'),"
            "        (CAST('f0000000-0000-0000-0000-000000000023' AS uuid), 'tekun',"
            "         'civil_affairs', TIMESTAMPTZ '2026-10-15T16:30:00Z', DATE '2026-10-14')"
        )
    )
    rows = await _rows(client, await _user(session), date_from="2026-10-01")
    assert _compliance(rows[("civil_affairs", "dibao")]) == (3, 3, 1.0)
    # tekun's push falls on 10-16 local: the second window, not the first.
    assert _compliance(rows[("civil_affairs", "tekun")]) == (3, 1, 0.3333)


async def test_november_every_expected_window_was_pushed(session, client, data):
    # 2026-11-01..11-23, 23 days: high_medical_expense 2 windows (F1, F2), dibao and
    # unsafe_housing 1 window (11-01..11-15: F4, F5).
    rows = await _rows(client, await _user(session), date_from="2026-11-01")
    assert _compliance(rows[MEDICAL]) == (2, 2, 1.0)
    assert _compliance(rows[("civil_affairs", "dibao")]) == (1, 1, 1.0)
    assert _compliance(rows[("housing", "unsafe_housing")]) == (1, 1, 1.0)


async def test_windows_not_ended_by_today_are_not_expected(session, client, data):
    # date_to in the future counts only up to today: as in November.
    rows = await _rows(client, await _user(session), date_from="2026-11-01", date_to="2026-12-31")
    assert _compliance(rows[MEDICAL]) == (2, 2, 1.0)


@pytest.mark.parametrize(
    ("date_from", "date_to"), [("2026-11-23", "2026-11-23"), ("2026-11-14", "2026-11-23")]
)
async def test_a_period_shorter_than_a_cadence_expects_nothing(
    session, client, data, date_from, date_to
):
    # One day, or 10 days (< 15; the 10-day feed gets one window 11-14..11-23,
    # in which F2 was pushed).
    rows = await _rows(client, await _user(session), date_from=date_from, date_to=date_to)
    assert _compliance(rows[("civil_affairs", "dibao")]) == (0, 0, None)
    medical = _compliance(rows[MEDICAL])
    assert medical == ((0, 0, None) if date_from == date_to else (1, 1, 1.0))
    assert rows[("civil_affairs", "dibao")]["state"] == "due_soon"  # state is as of now


@pytest.mark.parametrize("role", ["viewer", "village_staff"])
async def test_viewers_and_staff_may_read(session, client, data, role):
    response = await client.get(FEEDS, headers=await _user(session, role, TOWN_A))
    assert response.status_code == 200


async def test_department_clients_are_forbidden(session, client, data):
    _, token = await issue_token(session, kind="client", name="civil", department="civil_affairs")
    response = await client.get(FEEDS, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


async def test_a_region_outside_the_scope_is_404(session, client, data):
    response = await client.get(
        FEEDS, params={"region": OTHER_COUNTY}, headers=await _user(session)
    )
    assert response.status_code == 404


async def test_a_reversed_period_is_422(session, client, data):
    response = await client.get(
        FEEDS,
        params={"date_from": "2026-11-02", "date_to": "2026-11-01"},
        headers=await _user(session),
    )
    assert response.status_code == 422


async def test_each_population_of_a_medical_feed_has_its_own_windows(session, client, data):
    # The general population's feed (30 days): from 2026-09-01, the windows
    # 09-01..09-30 and 10-01..10-30 have ended by TODAY; one general push on
    # 09-15 (local) fills the first. F1 and F2 count for the other population only.
    await session.execute(
        text(
            "INSERT INTO feed_pushes (batch_id, warning_type, population, department,"
            " pushed_at, period_end) VALUES (CAST('f0000000-0000-0000-0000-000000000031' AS uuid),"
            " 'high_medical_expense', 'general', 'medical_insurance',"
            " TIMESTAMPTZ '2026-09-15T02:00:00Z', DATE '2026-09-14')"
        )
    )
    rows = await _rows(client, await _user(session), date_from="2026-09-01")
    assert _compliance(rows[GENERAL]) == (2, 1, 0.5)
    assert rows[GENERAL]["state"] == "late"  # due 10-15, a push only 30 days on
    assert rows[GENERAL]["last_push_at"] == "2026-09-15T02:00:00Z"
    # monitored_and_alleviated (10 d): 8 windows 09-01..11-19, F1 in the last
    # (F2's window 11-20..11-29 has not ended).
    assert _compliance(rows[MEDICAL]) == (8, 1, 0.125)
    assert rows[MEDICAL]["state"] == "on_time"
