"""The one clock. Tests set it; everything that needs the time asks it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from shared.settings import get_settings

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current instant, timezone-aware."""
    return _source()


def today() -> date:
    """Today's date in the deployment's time zone (deadlines are people's days)."""
    return local_date(now())


def local_date(instant: datetime) -> date:
    """The calendar date of an instant in the deployment's time zone."""
    return instant.astimezone(get_settings().zone).date()


@contextmanager
def frozen_at(instant: datetime) -> Iterator[None]:
    """Hold the clock at `instant` for the duration of the block."""
    global _source
    if instant.tzinfo is None:
        raise ValueError("frozen_at needs an aware datetime")
    previous = _source
    _source = lambda: instant  # noqa: E731
    try:
        yield
    finally:
        _source = previous
