"""The criteria of risk elimination (风险消除, SPEC §5), in one statement that
judges one object (the elimination) or every object of a region at once (the
`ready_to_eliminate` worklist). There is no other copy of the rules.

On a decision date D, an object fails:

- `no_assessment`: no assessment on or before D; otherwise, of the latest one
  (by date, then recording) — the visit the decision rests on:
- `income_below_line`: its income per capita is not above its year's line;
- `income_not_stable`: no earlier assessment at least `income_stable_days`
  before it above its own year's line with none below the line in between
  (the latest earlier one on or before that cutoff is the one that counts);
- `three_guarantees_not_secure` / `drinking_water_not_secure`: at it;
- `no_measure`: no measure in progress or completed that started on or before
  D (waived by a natural elimination, 自然消除);
- `monitoring_too_short`: fewer than `min_monitoring_days` from inclusion to D;
- `whole_household_no_labour`: flagged 整户无劳动能力, stays under the safety net.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.errors import FieldError
from shared.policy import Policy

# The codes in the order a refusal names them.
CRITERIA = (
    "no_assessment",
    "income_below_line",
    "income_not_stable",
    "three_guarantees_not_secure",
    "drinking_water_not_secure",
    "no_measure",
    "monitoring_too_short",
    "whole_household_no_labour",
)


@dataclass(frozen=True, slots=True)
class FailedCriteria:
    """One object's criteria (CRITERIA's codes, in order): true where failed."""

    no_assessment: bool
    income_below_line: bool
    income_not_stable: bool
    three_guarantees_not_secure: bool
    drinking_water_not_secure: bool
    no_measure: bool
    monitoring_too_short: bool
    whole_household_no_labour: bool


# The columns of FailedCriteria, read off `criteria c` (criteria_sql).
FAILED_CRITERIA_COLUMNS = ", ".join(f"c.{code}" for code in CRITERIA)

# The monitoring line per year as (valid from, line): a date uses the latest
# year on or before its own, or the first year's figures before any.
LINES_CTE = """lines AS (
    SELECT * FROM unnest(CAST(:line_from AS date[]), CAST(:line_yuan AS numeric[]))
        AS l(valid_from, line)
)"""


def line_on(day: str) -> str:
    """SQL: the monitoring line of the year of the SQL date expression `day`."""
    return (
        f"(SELECT l.line FROM lines l WHERE l.valid_from <= {day}"
        " ORDER BY l.valid_from DESC LIMIT 1)"
    )


def line_params(policy: Policy) -> dict[str, Any]:
    """The parameters of LINES_CTE."""
    years = sorted(policy.years)
    starts = [date.min, *(date(year, 1, 1) for year in years[1:])]
    return {
        "line_from": starts,
        "line_yuan": [policy.years[year].monitoring_line_yuan for year in years],
    }


def criteria_sql(objects_where: str) -> str:
    """`WITH ... criteria AS (...)`: the head of a statement that then reads
    `criteria`, one row per monitoring object `o` matching `objects_where`, with
    object_id, county_code, household_id, region_code, included_on and a boolean
    per code of CRITERIA (true: the criterion is failed; `whole_household_no_labour`
    is the object's own flag). Parameters:
    `criteria_params()` plus those of `objects_where`."""
    return f"""
WITH {LINES_CTE}, k AS (
    SELECT CAST(:decided_on AS date) AS decided_on,
           CAST(:min_days AS integer) AS min_days, CAST(:stable_days AS integer) AS stable_days
), judged AS (
    SELECT o.object_id, o.county_code, o.household_id, o.region_code, o.included_on,
           o.whole_household_no_labour, latest.assessment_id IS NOT NULL AS assessed,
           latest.income_per_capita_yuan > {line_on("latest.assessed_on")} AS above_line,
           latest.housing_secure AND latest.education_secure AND latest.medical_secure
               AS guarantees_secure,
           latest.drinking_water_secure AS water_secure,
           COALESCE(stable.ok, false) AS stable,
           EXISTS (SELECT 1 FROM measures m
                   WHERE m.county_code = o.county_code AND m.object_id = o.object_id
                     AND m.status IN ('in_progress', 'completed')
                     AND (m.started_on IS NULL OR m.started_on <= k.decided_on)) AS measured,
           k.decided_on - o.included_on >= k.min_days AS long_enough
    FROM monitoring_objects o
    CROSS JOIN k
    LEFT JOIN LATERAL (
        SELECT a.* FROM assessments a
        WHERE a.county_code = o.county_code AND a.object_id = o.object_id
          AND a.assessed_on <= k.decided_on
        ORDER BY a.assessed_on DESC, a.recorded_at DESC, a.assessment_id DESC LIMIT 1
    ) latest ON true
    LEFT JOIN LATERAL (
        SELECT q.income_per_capita_yuan > {line_on("q.assessed_on")}
               AND NOT EXISTS (
                   SELECT 1 FROM assessments b
                   WHERE b.county_code = o.county_code AND b.object_id = o.object_id
                     AND (b.assessed_on, b.recorded_at, b.assessment_id)
                         > (q.assessed_on, q.recorded_at, q.assessment_id)
                     AND (b.assessed_on, b.recorded_at, b.assessment_id)
                         < (latest.assessed_on, latest.recorded_at, latest.assessment_id)
                     AND NOT b.income_per_capita_yuan > {line_on("b.assessed_on")}) AS ok
        FROM assessments q
        WHERE q.county_code = o.county_code AND q.object_id = o.object_id
          AND q.assessed_on <= latest.assessed_on - k.stable_days
          AND (q.assessed_on, q.recorded_at, q.assessment_id)
              < (latest.assessed_on, latest.recorded_at, latest.assessment_id)
        ORDER BY q.assessed_on DESC, q.recorded_at DESC, q.assessment_id DESC LIMIT 1
    ) stable ON true
    WHERE {objects_where}
), criteria AS (
    SELECT j.*,
           NOT j.assessed AS no_assessment,
           j.assessed AND NOT j.above_line AS income_below_line,
           j.assessed AND NOT j.stable AS income_not_stable,
           j.assessed AND NOT j.guarantees_secure AS three_guarantees_not_secure,
           j.assessed AND NOT j.water_secure AS drinking_water_not_secure,
           NOT j.measured AS no_measure,
           NOT j.long_enough AS monitoring_too_short
    FROM judged j
)
"""


def meets_every_criterion() -> str:
    """SQL over `criteria c`: the object fails none of them."""
    return " AND ".join(f"NOT c.{code}" for code in CRITERIA)


def criteria_params(policy: Policy, *, decided_on: date) -> dict[str, Any]:
    rules = policy.assistance
    return line_params(policy) | {
        "decided_on": decided_on,
        "min_days": rules.min_monitoring_days,
        "stable_days": rules.income_stable_days,
    }


def unmet(row: FailedCriteria, policy: Policy, *, waived: frozenset[str]) -> list[FieldError]:
    """The failed criteria of one object as field errors, in CRITERIA order."""
    rules = policy.assistance
    messages = {
        "no_assessment": ("assessments", "no assessment on or before decided_on"),
        "income_below_line": (
            "income_per_capita_yuan",
            "the latest assessment's income per capita is not above the monitoring line",
        ),
        "income_not_stable": (
            "income_per_capita_yuan",
            f"no assessment at least {rules.income_stable_days} days before"
            " the latest one above the line, with none below it in between",
        ),
        "three_guarantees_not_secure": (
            "three_guarantees",
            "housing, education or medical care is not secure at the latest assessment",
        ),
        "drinking_water_not_secure": (
            "drinking_water_secure",
            "drinking water is not secure at the latest assessment",
        ),
        "no_measure": ("measures", "no measure started or completed"),
        "monitoring_too_short": (
            "decided_on",
            f"monitored for less than {rules.min_monitoring_days} days since inclusion",
        ),
        "whole_household_no_labour": (
            "whole_household_no_labour",
            "a household with no labour capacity stays monitored under the safety net",
        ),
    }
    return [
        FieldError(messages[code][0], code, messages[code][1])
        for code in CRITERIA
        if getattr(row, code) and code not in waived
    ]
