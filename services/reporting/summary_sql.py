"""The SQL that rolls a summary table's village rows up to its other grains and
buckets, and recounts a county's rows (summaries.py runs it; the grains are
described there).

Generated, because the summary tables share it and differ only in their columns: each
function takes the table's `Summary` and returns the statement's text, which
binds only `:counties` (tests/services/reporting/test_summary_sql.py prints
every one and has PostgreSQL EXPLAIN it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from shared.regions import LEVEL_DIGITS


@dataclass(frozen=True, slots=True)
class Summary:
    """A summary table (shared/models/reporting.py) as the generated SQL sees it."""

    table: str
    # What it counts by besides county_code, grain and region_code (and, when
    # dated, bucket and day): its GROUP BY and the rest of its unique key.
    dims: tuple[str, ...]
    # Dated: rows per day, month and year (`bucket`, `day`); stock: a count as it stands.
    dated: bool
    # The columns its rows add up: `n` (rows counted), and for the monitoring
    # objects `persons` (the members of their households).
    sums: tuple[str, ...] = ("n",)

    @property
    def keys(self) -> tuple[str, ...]:
        """Its key columns besides county_code, grain and region_code."""
        return ("bucket", "day", *self.dims) if self.dated else self.dims


IN_COUNTIES = "county_code = ANY(CAST(:counties AS text[]))"
# The region a row counts under at grain `g`, from its own (village) code.
GRAIN_REGION = "rpad(left(s.region_code, g.digits), 12, '0')"
# The grains above the county. Their rows add up many counties, so they are
# keyed by the region's own code cut to six digits ("610000" for a province,
# "610300" for a city; no county's code ends in "00") rather than per county:
# a province's overview adds up thousands of rows rather than one set per county.
ABOVE_COUNTY = ", ".join(f"('{g}', {LEVEL_DIGITS[g]})" for g in ("city", "province"))
WITHIN_COUNTY = "('village', 'town', 'county')"


def values_sql(rows: Iterable[tuple[object, ...]]) -> str:
    return ", ".join("(" + ", ".join(repr(v) for v in row) + ")" for row in rows)


def _columns(names: tuple[str, ...], prefix: str = "") -> str:
    return ", ".join(prefix + name for name in names)


def _sums(summary: Summary, sign: str = "") -> str:
    """`sum(s.<column>)` of each column the summary adds up, `sign` in front."""
    return ", ".join(f"{sign}sum(s.{column})" for column in summary.sums)


def _roll_up_dated(summary: Summary) -> str:
    """The village months and years and the town and county grains of a dated
    summary, from its village day rows of `:counties`."""
    table, dims, dims_s = summary.table, _columns(summary.dims), _columns(summary.dims, "s.")
    sums = _columns(summary.sums)
    grains = [("village", 12, "month"), ("village", 12, "year")] + [
        (grain, LEVEL_DIGITS[grain], bucket)
        for grain in ("town", "county")
        for bucket in ("day", "month", "year")
    ]
    return f"""
INSERT INTO {table} (county_code, grain, bucket, region_code, day, {dims}, {sums})
SELECT s.county_code, g.grain, g.bucket, {GRAIN_REGION},
       CASE g.bucket WHEN 'day' THEN s.day
            ELSE CAST(date_trunc(g.bucket, s.day) AS date) END,
       {dims_s}, {_sums(summary)}
FROM {table} s
CROSS JOIN (VALUES {values_sql(grains)}) AS g(grain, digits, bucket)
WHERE s.grain = 'village' AND s.bucket = 'day' AND s.{IN_COUNTIES}
GROUP BY 1, 2, 3, 4, 5, {dims_s}
"""


def _roll_up_stock(summary: Summary) -> str:
    """The town and county grains of a stock summary, from its village rows of `:counties`."""
    table, dims, dims_s = summary.table, _columns(summary.dims), _columns(summary.dims, "s.")
    return f"""
INSERT INTO {table} (county_code, grain, region_code, {dims}, {_columns(summary.sums)})
SELECT s.county_code, g.grain, {GRAIN_REGION}, {dims_s}, {_sums(summary)}
FROM {table} s CROSS JOIN (VALUES ('town', 9), ('county', 6)) AS g(grain, digits)
WHERE s.grain = 'village' AND s.{IN_COUNTIES}
GROUP BY 1, 2, 3, {dims_s}
"""


def roll_up(summary: Summary) -> str:
    """The grains (and buckets) above a summary's village (day) rows."""
    return _roll_up_dated(summary) if summary.dated else _roll_up_stock(summary)


def fold_above_county(summary: Summary, sign: Literal["+", "-"]) -> tuple[str, ...]:
    """Add (`sign` "+") or take away ("-") the county rows of `:counties` in their
    cities' and provinces' rows. Rows left at zero go."""
    table, keys, keys_s = summary.table, _columns(summary.keys), _columns(summary.keys, "s.")
    added = ", ".join(f"{column} = t.{column} + EXCLUDED.{column}" for column in summary.sums)
    upsert = f"""
INSERT INTO {table} AS t (county_code, grain, region_code, {keys}, {_columns(summary.sums)})
SELECT rpad(left(s.region_code, g.digits), 6, '0'), g.grain, {GRAIN_REGION}, {keys_s},
       {_sums(summary, sign)}
FROM {table} s CROSS JOIN (VALUES {ABOVE_COUNTY}) AS g(grain, digits)
WHERE s.grain = 'county' AND s.{IN_COUNTIES}
GROUP BY 1, 2, 3, {keys_s}
ON CONFLICT (county_code, grain, region_code, {keys}) DO UPDATE SET {added}
"""
    if sign == "+":
        return (upsert,)
    return (
        upsert,
        f"""
DELETE FROM {table} t
WHERE t.n = 0 AND t.grain IN ('city', 'province') AND t.region_code IN (
    SELECT rpad(left(c, g.digits), 12, '0') FROM unnest(CAST(:counties AS text[])) AS c
    CROSS JOIN (VALUES {ABOVE_COUNTY}) AS g(grain, digits))
""",
    )


def recount_sql(summary: Summary, count: str) -> tuple[str, ...]:
    """Recount a summary for `:counties`: `count` writes its village (day) rows
    from the tables, the roll-up its other grains within the county, and their
    cities' and provinces' rows are kept in step."""
    return (
        *fold_above_county(summary, "-"),
        f"DELETE FROM {summary.table} WHERE {IN_COUNTIES} AND grain IN {WITHIN_COUNTY}",
        count,
        roll_up(summary),
        *fold_above_county(summary, "+"),
    )
