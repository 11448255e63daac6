"""Which summary rows add up a period: the dated summaries count each day
three times over, in a `day` row, a `month` row (day = the 1st) and a `year`
row (day = 1 January), so a period can be read as a few coarse rows.

A period is covered exactly by buckets added and taken away: a whole year or
month inside it is one row; a year or month it covers in part is read either
as its parts inside the period, or as the whole row less its parts outside,
whichever reads fewer rows. A period ending today thus reads its year's row
less the months and days still to come, which hold nothing: one row per
place and combination, rather than one per month and day.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

BUCKETS = ("year", "month", "day")


def _unit(bucket: str, day: date) -> tuple[date, date]:
    """[first, end) of the `bucket` holding `day`."""
    if bucket == "year":
        first = day.replace(month=1, day=1)
        return first, first.replace(year=first.year + 1)
    if bucket == "month":
        first = day.replace(day=1)
        return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day, day + timedelta(days=1)


def _plus(plan: Counter[tuple[str, date]], other: Counter[tuple[str, date]], sign: int) -> None:
    for key, n in other.items():
        plan[key] += sign * n


def cover(start: date, end: date, level: int = 0) -> Counter[tuple[str, date]]:
    """(bucket, first day) -> +1 or -1: the rows whose signed sum is the days
    [start, end), using buckets from `BUCKETS[level]` down; the fewest rows by a
    greedy choice at each partial bucket."""
    plan: Counter[tuple[str, date]] = Counter()
    if start >= end:
        return plan
    bucket = BUCKETS[level]
    day = start
    while day < end:
        first, after = _unit(bucket, day)
        if bucket == "day" or (start <= first and after <= end):
            plan[(bucket, first)] += 1
        else:
            inside = cover(max(first, start), min(after, end), level + 1)
            less: Counter[tuple[str, date]] = Counter({(bucket, first): 1})
            _plus(less, cover(first, max(first, start), level + 1), -1)
            _plus(less, cover(min(after, end), after, level + 1), -1)
            _plus(plan, inside if len(_nonzero(inside)) <= len(_nonzero(less)) else less, 1)
        day = after
    return _nonzero(plan)


def _nonzero(plan: Counter[tuple[str, date]]) -> Counter[tuple[str, date]]:
    return Counter({key: n for key, n in plan.items() if n})


def bucket_params(date_from: date, date_to: date) -> dict[str, list[date]]:
    """`cover` of `date_from`..`date_to` (both included) as the first days of the
    rows to add (`<bucket>_plus`) and to take away (`<bucket>_less`)."""
    plan = cover(date_from, date_to + timedelta(days=1))
    # Buckets never overlap within one level, so each row is added or taken once.
    assert all(n in (1, -1) for n in plan.values()), plan
    params: dict[str, list[date]] = {}
    for bucket in BUCKETS:
        for name, sign in (("plus", 1), ("less", -1)):
            params[f"{bucket}_{name}"] = sorted(
                day for (b, day), n in plan.items() if b == bucket and n == sign
            )
    return params


# -- reading them (figures.py) ------------------------------------------------

# The summary rows of a grouping's groups, at the grain of its groups. Each
# group's rows are an index range of their own (`= ANY` probes the index once
# per code), and the county range lets a sharded database skip other counties.
SUMMARY_ROWS = """s.grain = CAST(:grain AS text)
    AND s.region_code = ANY(CAST(:codes AS text[]))
    AND s.county_code >= CAST(:county_from AS text) AND s.county_code < CAST(:county_to AS text)"""


def dated_rows(table: str, columns: str, sums: tuple[str, ...] = ("n",)) -> str:
    """`columns` and the `sums` of a dated summary's rows over the period, as
    `bucket_params` plans them: the rows of each bucket to add, and those to
    take away (their `sums` negated). A branch per bucket and sign,
    each probing the read index for its days (an OR of them is planned as one
    scan over every day in between)."""
    return (
        "("
        + "\n    UNION ALL ".join(
            f"SELECT {columns}, "
            + ", ".join(f"{'-' if name == 'less' else ''}s.{c} AS {c}" for c in sums)
            + f" FROM {table} s"
            f" WHERE {SUMMARY_ROWS} AND s.bucket = '{bucket}'"
            f" AND s.day = ANY(CAST(:{bucket}_{name} AS date[]))"
            for bucket in BUCKETS
            for name in ("plus", "less")
        )
        + ") AS s"
    )


# A group: the first `:digits` of the row's region code.
GROUP = "left(s.region_code, CAST(:digits AS integer))"
