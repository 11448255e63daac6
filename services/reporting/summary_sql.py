"""The SQL that rolls a summary table's village rows up to its other grains and
buckets, and recounts a county's rows (summaries.py runs it; the grains are
described there)."""

from __future__ import annotations

from collections.abc import Iterable

from shared.regions import LEVEL_DIGITS

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


def roll_up_dated(table: str, dims: str, where: str) -> str:
    """The village months and years and the town and county grains of a dated
    summary, from its village day rows."""
    dims_s = ", ".join(f"s.{d.strip()}" for d in dims.split(","))
    grains = [("village", 12, "month"), ("village", 12, "year")] + [
        (grain, LEVEL_DIGITS[grain], bucket)
        for grain in ("town", "county")
        for bucket in ("day", "month", "year")
    ]
    return f"""
INSERT INTO {table} (county_code, grain, bucket, region_code, day, {dims}, n)
SELECT s.county_code, g.grain, g.bucket, {GRAIN_REGION},
       CASE g.bucket WHEN 'day' THEN s.day
            ELSE CAST(date_trunc(g.bucket, s.day) AS date) END,
       {dims_s}, sum(s.n)
FROM {table} s
CROSS JOIN (VALUES {values_sql(grains)}) AS g(grain, digits, bucket)
WHERE s.grain = 'village' AND s.bucket = 'day' AND {where}
GROUP BY 1, 2, 3, 4, 5, {dims_s}
"""


def roll_up_stock(table: str, dims: str) -> str:
    """The town and county grains of a stock summary, from its village rows."""
    dims_s = ", ".join(f"s.{d.strip()}" for d in dims.split(","))
    return f"""
INSERT INTO {table} (county_code, grain, region_code, {dims}, n)
SELECT s.county_code, g.grain, {GRAIN_REGION}, {dims_s}, sum(s.n)
FROM {table} s CROSS JOIN (VALUES ('town', 9), ('county', 6)) AS g(grain, digits)
WHERE s.grain = 'village' AND s.county_code = ANY(CAST(:counties AS text[]))
GROUP BY 1, 2, 3, {dims_s}
"""


def fold_above_county(table: str, keys: str, sign: str) -> tuple[str, ...]:
    """Add (`sign` "+") or take away ("-") the county rows of `:counties` in their
    cities' and provinces' rows; `keys` are the table's key columns besides
    county_code, grain and region_code. Rows left at zero go."""
    keys_s = ", ".join(f"s.{k.strip()}" for k in keys.split(","))
    upsert = f"""
INSERT INTO {table} AS t (county_code, grain, region_code, {keys}, n)
SELECT rpad(left(s.region_code, g.digits), 6, '0'), g.grain, {GRAIN_REGION}, {keys_s},
       {sign}sum(s.n)
FROM {table} s CROSS JOIN (VALUES {ABOVE_COUNTY}) AS g(grain, digits)
WHERE s.grain = 'county' AND s.county_code = ANY(CAST(:counties AS text[]))
GROUP BY 1, 2, 3, {keys_s}
ON CONFLICT (county_code, grain, region_code, {keys}) DO UPDATE SET n = t.n + EXCLUDED.n
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


def recount_sql(table: str, keys: str, *statements: str) -> tuple[str, ...]:
    """Recount `table` for `:counties` by `statements` (which write the village,
    town and county grains), keeping their cities' and provinces' rows in step."""
    return (
        *fold_above_county(table, keys, "-"),
        f"DELETE FROM {table} WHERE {IN_COUNTIES} AND grain IN {WITHIN_COUNTY}",
        *statements,
        *fold_above_county(table, keys, "+"),
    )


IN_COUNTIES = "county_code = ANY(CAST(:counties AS text[]))"
