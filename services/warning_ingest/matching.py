"""How a warning's status follows from the registry and the policy, in SQL
shared by the three places that settle it: a push, a re-match after a
registry load, and county staff resolving an unmatched warning.

- No household for the person: `unmatched`.
- A type with the catalog's threshold rule (`high_medical_expense`) at or
  under the year's threshold: `below_threshold`.
  The threshold is the province's rural per-capita disposable income of the
  previous year for a general household, half of it for a poverty-alleviated
  or already monitored one (SPEC §3), for the year of the event date (else
  of receipt).
- Otherwise `matched`: a risk clue, announced by `warning.accepted`.

Each statement that uses these fragments aliases the warning-like row `w`
(with warning_type, amount_yuan, event_date, received_on), the household `h`
and joins the thresholds as `t` with `THRESHOLDS_JOIN`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.catalog import THRESHOLD_TYPES
from shared.event_types import WARNING_ACCEPTED, WARNING_BELOW_THRESHOLD, WARNING_UNMATCHED
from shared.policy import Policy

# The types the threshold rule applies to (the catalog's), as an SQL list of
# literals: the statements keep their bind parameters, and the codes are the
# catalog's fixed snake_case identifiers, never input.
_THRESHOLD_TYPES = ", ".join(f"'{code}'" for code in sorted(THRESHOLD_TYPES))

# The year whose figures apply to a record.
YEAR_OF = "extract(year FROM coalesce(w.event_date, w.received_on))::int"

THRESHOLDS_JOIN = (
    "LEFT JOIN unnest(CAST(:years AS int[]), CAST(:general AS numeric[]),"
    " CAST(:alleviated AS numeric[])) AS t(year, general, alleviated)"
    # Clamped: a year before the policy's first uses the first year's figures.
    f" ON w.warning_type IN ({_THRESHOLD_TYPES})"
    f" AND t.year = greatest(least({YEAR_OF}, :last_year), :first_year)"
)

# The alleviated threshold (50%) applies to a poverty-alleviated household and
# to one already monitored: it has an object whose risk is not eliminated (a
# probe of the partial unique index on monitoring_objects). `h` needs
# county_code, household_id and category.
STATUS = (
    "CASE WHEN h.household_id IS NULL THEN 'unmatched'"
    f" WHEN w.warning_type IN ({_THRESHOLD_TYPES}) AND w.amount_yuan <="
    "  CASE WHEN h.category = 'poverty_alleviated' OR EXISTS (SELECT 1 FROM monitoring_objects mo"
    "   WHERE mo.county_code = h.county_code AND mo.household_id = h.household_id"
    "   AND mo.status = 'risk_not_eliminated')"
    "  THEN t.alleviated ELSE t.general END"
    " THEN 'below_threshold'"
    " ELSE 'matched' END"
)

EVENT_TYPE = (
    f"CASE status WHEN 'matched' THEN '{WARNING_ACCEPTED}'"
    f" WHEN 'unmatched' THEN '{WARNING_UNMATCHED}' ELSE '{WARNING_BELOW_THRESHOLD}' END"
)

# The payload every warning event carries (shared/event_types.py), built from
# a row with the warnings table's column names. Never a name or an ID number.
PAYLOAD = (
    "jsonb_build_object('warning_id', warning_id::text, 'department', department,"
    " 'warning_type', warning_type, 'status', status, 'household_id', household_id,"
    " 'county_code', county_code, 'region_code', region_code, 'event_date', event_date,"
    " 'received_on', received_on, 'late', late)"
)

# A settled warning's event also says where it was counted before (it may move
# to its household's county and village), so that counts can follow it.
SETTLED_PAYLOAD = (
    f"{PAYLOAD} || jsonb_build_object('previous', jsonb_build_object("
    "'status', 'unmatched', 'county_code', previous_county_code,"
    " 'region_code', previous_region_code))"
)

# Appends one event per row of `source` (a CTE with the warnings columns).
INSERT_EVENTS = (
    "INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)"
    f" SELECT county_code, {EVENT_TYPE}, 'warning', warning_id::text, :actor, {PAYLOAD}"
    " FROM {source}"
)

# The same for warnings that left the unmatched queue (`source` also has the
# previous_county_code and previous_region_code columns).
INSERT_SETTLED_EVENTS = (
    "INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)"
    f" SELECT county_code, {EVENT_TYPE}, 'warning', warning_id::text, :actor, {SETTLED_PAYLOAD}"
    " FROM {source}"
)


def threshold_params(policy: Policy, today: date) -> dict[str, Any]:
    """The bind parameters of THRESHOLDS_JOIN: every year from the policy's
    first to this one, each with the figures in force (a year without its own
    uses the latest earlier year's)."""
    first, last = min(policy.years), max(max(policy.years), today.year)
    years = list(range(first, last + 1))
    figures = [policy.figures_for(date(year, 12, 31)) for year in years]
    return {
        "first_year": first,
        "last_year": last,
        "years": years,
        "general": [f.medical_threshold_general_yuan for f in figures],
        "alleviated": [f.medical_threshold_alleviated_yuan for f in figures],
    }
