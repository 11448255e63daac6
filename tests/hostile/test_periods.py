"""Issue 21, finding 4: a report's period lies in the documented window (from
1 January of the policy's first year to a year after today) and spans at
most five years; beyond, a 422 naming the field, never a 500 or seconds of
database time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared import clock
from shared.dates import MAX_PERIOD_DAYS, earliest_day, latest_day
from tests.services.warning_ingest.ingest_helpers import staff_headers

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)
REPORTS = ("/reporting/v1/overview", "/reporting/v1/regions", "/reporting/v1/feeds")


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _viewer(session) -> dict[str, str]:
    return await staff_headers(session, "viewer", "610326000000")


@pytest.mark.parametrize("path", REPORTS)
@pytest.mark.parametrize(
    ("date_from", "date_to", "field", "code"),
    [
        ("0001-01-02", "9999-12-30", "date_from", "date_out_of_range"),
        ("2026-01-01", "9999-12-30", "date_to", "date_out_of_range"),
        ("1999-12-31", "2026-01-01", "date_from", "date_out_of_range"),
        ("2026-06-01", "2026-05-01", "date_from", "invalid_period"),
    ],
)
async def test_periods_nobody_means_are_422(client, session, path, date_from, date_to, field, code):
    answer = await client.get(
        path,
        params={"date_from": date_from, "date_to": date_to},
        headers=await _viewer(session),
    )
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["field"], error["code"]) == (field, code)


async def test_a_period_longer_than_five_years_is_422_and_five_years_answer(client, session):
    headers = await _viewer(session)
    end = latest_day(TODAY)
    too_long = {"date_from": str(end - timedelta(days=MAX_PERIOD_DAYS)), "date_to": str(end)}
    assert earliest_day() <= end - timedelta(days=MAX_PERIOD_DAYS)
    answer = await client.get("/reporting/v1/overview", params=too_long, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "invalid_period"
    longest = {"date_from": str(end - timedelta(days=MAX_PERIOD_DAYS - 1)), "date_to": str(end)}
    for path in REPORTS:
        assert (await client.get(path, params=longest, headers=headers)).status_code == 200, path


async def test_the_trend_refuses_a_period_outside_the_window(client, session):
    answer = await client.get(
        "/reporting/v1/trend",
        params={"date_from": "0001-01-01", "date_to": "2026-11-23"},
        headers=await _viewer(session),
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == "date_out_of_range"
