"""Feed compliance over a period (SPEC §6, feed compliance; API.md `GET /feeds`).

Every periodic feed of the catalog (as `/ingest/v1/feeds` lists them, a type
tracked per population once per population, shared/feeds.py) with its
state as of now (rolling: next_due_at = last push + cadence, the shared
`feed_state`) and, over the period, its compliance:

- The period `date_from`..`date_to` (both included, days of the deployment's
  time zone) is cut into cadence windows starting at `date_from`: window k
  runs over the days `date_from + k*cadence` .. `date_from + (k+1)*cadence - 1`.
- `expected_pushes`: the windows that lie wholly inside the period and have
  ended by today (a window still running, or cut off by `date_to`, expects
  nothing yet). Each expects one push: a missed cadence counts as one expected
  push not made.
- `on_time_pushes`: the expected windows with at least one push whose
  `pushed_at` falls on one of the window's days (a zero report counts; two
  pushes in one window still count once).
- `on_time_rate`: on_time_pushes / expected_pushes, a fraction rounded to four
  decimals; null when nothing was expected (a period shorter than one cadence,
  or a type the policy gives no cadence).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.figures import Period
from shared.feeds import feed_arrays, feed_state, periodic_feeds
from shared.policy import get_policy
from shared.settings import get_settings

# One statement: the feeds come in as arrays (catalog order), the windows are a
# generate_series per feed, each window probes feed_pushes by its index.
_COMPLIANCE = text(
    """
WITH f AS (
    SELECT * FROM unnest(CAST(:departments AS text[]), CAST(:types AS text[]),
                         CAST(:populations AS text[]), CAST(:cadences AS integer[]))
           WITH ORDINALITY AS f(department, warning_type, population, cadence, ord)
), w AS (
    SELECT f.ord,
           (CAST(:date_from AS date) + k * f.cadence) AS starts,
           (CAST(:date_from AS date) + (k + 1) * f.cadence) AS ends
    FROM f
    CROSS JOIN LATERAL generate_series(
        0, (CAST(:last_day AS date) - CAST(:date_from AS date) + 1) / f.cadence - 1
    ) AS g(k)
)
SELECT f.department, f.warning_type, f.population,
       (SELECT max(fp.pushed_at) FROM feed_pushes fp
        WHERE fp.department = f.department AND fp.warning_type = f.warning_type
          AND fp.population = f.population)
           AS last_push_at,
       count(w.starts) AS expected_pushes,
       count(w.starts) FILTER (WHERE EXISTS (
           SELECT 1 FROM feed_pushes fp
           WHERE fp.department = f.department AND fp.warning_type = f.warning_type
             AND fp.population = f.population
             AND fp.pushed_at >= CAST(w.starts AS timestamp) AT TIME ZONE CAST(:zone AS text)
             AND fp.pushed_at < CAST(w.ends AS timestamp) AT TIME ZONE CAST(:zone AS text)
       )) AS on_time_pushes
FROM f LEFT JOIN w ON w.ord = f.ord
GROUP BY f.ord, f.department, f.warning_type, f.population
ORDER BY f.ord
"""
)


async def feed_compliance(
    session: AsyncSession, *, period: Period, today: date, now: datetime
) -> list[dict[str, Any]]:
    """Every periodic feed's state at `now` and its compliance over `period`
    (windows ending after `today` are not expected yet). One statement."""
    feeds = periodic_feeds()
    rows = await session.execute(
        _COMPLIANCE,
        {
            **feed_arrays(feeds),
            "date_from": period.date_from,
            "last_day": min(period.date_to, today),
            "zone": get_settings().timezone,
        },
    )
    by_feed = {(r.department, r.warning_type, r.population): r for r in rows}
    due_soon_days = get_policy().feeds.due_soon_days
    items = []
    for feed in feeds:
        row = by_feed[(feed.department, feed.warning_type, feed.population)]
        next_due_at, state = feed_state(
            last_push_at=row.last_push_at,
            cadence_days=feed.cadence_days,
            now=now,
            due_soon_days=due_soon_days,
        )
        expected, on_time = int(row.expected_pushes), int(row.on_time_pushes)
        items.append(
            {
                "department": feed.department,
                "warning_type": feed.warning_type,
                "population": feed.population,
                "cadence_days": feed.cadence_days,
                "last_push_at": row.last_push_at,
                "next_due_at": next_due_at,
                "state": state,
                "expected_pushes": expected,
                "on_time_pushes": on_time,
                "on_time_rate": round(on_time / expected, 4) if expected else None,
            }
        )
    return items
