"""The days warnex accepts: from 1 January of the policy's first year to one
year after today, and periods of at most MAX_PERIOD_DAYS.

A case found on 0001-01-01 or a measure planned for 9999-12-31 is nobody's
meaning: it distorts every figure it touches (days_left of -739,940), and a
report over ten thousand years costs the database seconds. Such dates are a
422 `date_out_of_range` naming the field and the window.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from shared import clock
from shared.errors import invalid
from shared.policy import get_policy

# Five years: a figure's cost must not grow with the span a caller picks.
MAX_PERIOD_DAYS = 5 * 366


def earliest_day() -> date:
    """1 January of the first year the policy has figures for."""
    return date(min(get_policy().years), 1, 1)


def latest_day(today: date) -> date:
    """One year after `today`."""
    return today + timedelta(days=366)


def longest_period_start(today: date) -> date:
    """The first day of the longest period that ends `today`."""
    return max(earliest_day(), today - timedelta(days=MAX_PERIOD_DAYS - 1))


def _out_of_range(field: str, today: date) -> str:
    return f"{field} must lie between {earliest_day()} and {latest_day(today)}"


def in_window(day: date, today: date) -> bool:
    """Whether `day` lies in the accepted window."""
    return earliest_day() <= day <= latest_day(today)


def check_day(field: str, day: date | None, *, today: date) -> None:
    """422 `date_out_of_range` when `day` lies outside the accepted window."""
    if day is not None and not in_window(day, today):
        raise invalid(field, "date_out_of_range", _out_of_range(field, today))


def check_period(date_from: date, date_to: date, *, today: date) -> None:
    """Both ends inside the window, in order, and at most MAX_PERIOD_DAYS long."""
    check_day("date_from", date_from, today=today)
    check_day("date_to", date_to, today=today)
    if date_from > date_to:
        raise invalid("date_from", "invalid_period", "date_from must not be after date_to")
    if (date_to - date_from).days + 1 > MAX_PERIOD_DAYS:
        raise invalid(
            "date_from", "invalid_period", f"a period is at most {MAX_PERIOD_DAYS} days long"
        )


def _in_window(day: date) -> date:
    today = clock.today()
    if not in_window(day, today):
        raise PydanticCustomError(
            "date_out_of_range",
            "the date must lie between {earliest} and {latest}",
            {"earliest": str(earliest_day()), "latest": str(latest_day(today))},
        )
    return day


Day = Annotated[date, AfterValidator(_in_window)]
"""A date in a request body: 422 `date_out_of_range` outside the window."""
