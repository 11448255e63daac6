"""The "last visit" rule (最近走访), one SQL fragment for every query that needs it.

A household's last visit is the latest of its monthly visits
(`household_visits.visited_on`, 每月走访) and its assessments
(`assessments.assessed_on`, routine or look-back): API.md "A routine or
look-back assessment counts as a visit too". For a monitoring object the
assessments are the object's own (an earlier object of the same household
does not count), the monthly visits its household's.

`last_visit_sql(alias, by=...)` is a scalar expression (a date, null when
never visited) over the row `alias` of a table with `county_code` and
`household_id` (and `object_id` when `by="object"`). Each side is a `max()`
of a correlated subquery on an index led by (county_code, household_id |
object_id, date): `ix_household_visits_household`, `ix_assessments_household`
and `ix_assessments_object`, so PostgreSQL answers each with one backward
index probe rather than a scan.
"""

from __future__ import annotations

from typing import Literal


def last_visit_sql(alias: str, *, by: Literal["household", "object"] = "household") -> str:
    """GREATEST(latest monthly visit of `alias`'s household, latest assessment
    of `alias`'s household or, with `by="object"`, of the object `alias`)."""
    if not alias.isidentifier():
        raise ValueError(f"not an SQL alias: {alias!r}")
    key = "object_id" if by == "object" else "household_id"
    return f"""GREATEST(
        (SELECT max(lv_v.visited_on) FROM household_visits lv_v
         WHERE lv_v.county_code = {alias}.county_code
           AND lv_v.household_id = {alias}.household_id),
        (SELECT max(lv_a.assessed_on) FROM assessments lv_a
         WHERE lv_a.county_code = {alias}.county_code AND lv_a.{key} = {alias}.{key}))"""  # noqa: S608 (an alias, checked)
