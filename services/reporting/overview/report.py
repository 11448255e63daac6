"""The overview of one region and the same figures per child region (SPEC §6).

Both read the figures of `figures.py`: the overview groups the region's rows
into one group, `/regions` into one group per child region. Rows are listed
for every child region of the registry's `regions` table, zero figures
included; a region code the table does not hold has a null name.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.figures import Grouping, Period, feed_figures, figures_by_group
from shared.errors import invalid
from shared.regions import LEVEL_DIGITS, Level, child_level, region_level, scope_range

_REGION_NAME = text("SELECT name FROM regions WHERE code = :code")

_CHILDREN = text(
    "SELECT code, name FROM regions WHERE code >= CAST(:scope_from AS text)"
    " AND code < CAST(:scope_to AS text) AND level = CAST(:level AS text) ORDER BY code"
)


def rows_level(region_code: str, level: str | None) -> Level:
    """The level of `/regions` rows under `region_code`: `level` if it lies below the
    region's, by default the next level down; 422 `invalid_code` otherwise."""
    own = region_level(region_code)
    if level is None:
        below = child_level(own)
        if below is None:
            raise invalid("level", "invalid_code", "a village has no child regions")
        return below
    for candidate, digits in LEVEL_DIGITS.items():
        if candidate == level and digits > LEVEL_DIGITS[own]:
            return candidate
    raise invalid("level", "invalid_code", f"level must be a level below the region's ({own})")


def _period(period: Period) -> dict[str, date]:
    return {"date_from": period.date_from, "date_to": period.date_to}


async def overview(
    session: AsyncSession, *, region_code: str, period: Period, today: date, now: datetime
) -> dict[str, Any]:
    """Every figure of `region_code` over `period` (stock figures as of `today`/`now`)."""
    level = region_level(region_code)
    digits = LEVEL_DIGITS[level]
    name = await session.scalar(_REGION_NAME, {"code": region_code})
    groups = await figures_by_group(
        session, grouping=Grouping.of_region(region_code), period=period, today=today
    )
    return {
        "region": region_code,
        "region_name": name,
        "level": level,
        "period": _period(period),
        **groups[region_code[:digits]],
        "feeds": await feed_figures(session, now=now),
    }


async def region_rows(
    session: AsyncSession,
    *,
    region_code: str,
    level: Level,
    period: Period,
    today: date,
    now: datetime,
) -> dict[str, Any]:
    """The overview's figures for every region of `level` inside `region_code`, in
    code order. Feeds belong to no place: every row carries the same counts."""
    digits = LEVEL_DIGITS[level]
    scope_from, scope_to = scope_range(region_code)
    children = (
        await session.execute(
            _CHILDREN, {"scope_from": scope_from, "scope_to": scope_to, "level": level}
        )
    ).all()
    grouping = Grouping(region_code, digits, tuple(child.code for child in children))
    groups = await figures_by_group(session, grouping=grouping, period=period, today=today)
    feeds = await feed_figures(session, now=now)
    items = [
        {
            "region_code": child.code,
            "region_name": child.name,
            **groups[child.code[:digits]],
            "feeds": feeds,
        }
        for child in children
    ]
    return {"region": region_code, "level": level, "period": _period(period), "items": items}
