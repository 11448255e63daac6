"""The rule of assistance gaps (帮扶缺口) as SQL, shared by the service that lists
and announces them (services/assistance/gaps/detection.py, whose docstring
states each kind) and the staff to-do list of reporting, which reads the same
gaps without importing another service.

`gaps_sql(kinds)` is the head of a statement (`WITH k ..., active ..., gaps
...`) that then reads `gaps` (county_code, object_id, household_id,
region_code, kind, since); `gap_params(today=, scope=)` its parameters, where
`scope` is a LIKE pattern (shared.regions.scope_like_pattern).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.policy import get_policy
from shared.settings import get_settings
from shared.visits import last_visit_sql

# The last visit (shared/visits.py) of a poverty-alleviated household `h` and
# of an at-risk object `o`.
HOUSEHOLD_LAST_VISIT = last_visit_sql("h")
OBJECT_LAST_VISIT = last_visit_sql("o", by="object")

# Each kind's rows, from `active` (objects still at risk, with what their
# measures and assessments say) or, for look-backs, from eliminated objects.
# `k` holds the statement's parameters, typed once.
_BRANCHES: dict[str, str] = {
    "no_development_measure": """
        SELECT a.county_code, a.object_id, a.household_id, a.region_code,
               CAST('no_development_measure' AS text) AS kind,
               GREATEST(a.included_on, a.development_cancelled_on) AS since
        FROM active a
        WHERE a.development_measures = 0 AND NOT a.whole_household_no_labour
          AND EXISTS (SELECT 1 FROM members p
                      WHERE p.county_code = a.county_code AND p.household_id = a.household_id
                        AND p.labour_capacity <> 'none')""",
    "no_insurance_subsidy": """
        SELECT a.county_code, a.object_id, a.household_id, a.region_code,
               CAST('no_insurance_subsidy' AS text) AS kind, a.included_on AS since
        FROM active a
        WHERE a.insurance_measures = 0""",
    "no_measure_30d": """
        SELECT a.county_code, a.object_id, a.household_id, a.region_code,
               CAST('no_measure_30d' AS text) AS kind, a.included_on + k.no_measure_days AS since
        FROM active a CROSS JOIN k
        WHERE a.measures = 0 AND a.included_on + k.no_measure_days < k.today""",
    "visit_overdue": f"""
        SELECT a.county_code, a.object_id, a.household_id, a.region_code,
               CAST('visit_overdue' AS text) AS kind,
               GREATEST(a.visited_on, a.included_on) + k.visit_days AS since
        FROM active a CROSS JOIN k
        WHERE GREATEST(a.visited_on, a.included_on) + k.visit_days < k.today
        UNION ALL
        SELECT h.county_code, CAST(NULL AS uuid), h.household_id, h.region_code,
               CAST('visit_overdue' AS text) AS kind, h.visited_on + k.visit_days AS since
        FROM (
            SELECT h.county_code, h.household_id, h.region_code,
                   COALESCE({HOUSEHOLD_LAST_VISIT}, h.registered_on) AS visited_on
            FROM households h
            WHERE h.category = 'poverty_alleviated' AND h.region_code LIKE CAST(:scope AS text)
              AND NOT EXISTS (
                  SELECT 1 FROM monitoring_objects o
                  WHERE o.county_code = h.county_code AND o.household_id = h.household_id
                    AND o.status = 'risk_not_eliminated')
        ) h CROSS JOIN k
        WHERE h.visited_on + k.visit_days < k.today""",  # noqa: S608 (constant fragments)
    "look_back_due": """
        SELECT e.county_code, e.object_id, e.household_id, e.region_code,
               CAST('look_back_due' AS text) AS kind, e.looked_back_on + k.look_back_days AS since
        FROM (
            SELECT o.county_code, o.object_id, o.household_id, o.region_code,
                   GREATEST(o.eliminated_on, lb.assessed_on) AS looked_back_on
            FROM monitoring_objects o
            CROSS JOIN LATERAL (
                SELECT max(s.assessed_on) AS assessed_on FROM assessments s
                WHERE s.county_code = o.county_code AND s.object_id = o.object_id
                  AND s.kind = 'look_back') lb
            WHERE o.status = 'risk_eliminated' AND o.region_code LIKE CAST(:scope AS text)
        ) e CROSS JOIN k
        WHERE e.looked_back_on + k.look_back_days < k.today""",
}

GAP_KINDS: tuple[str, ...] = tuple(_BRANCHES)

# One pass over each at-risk object's measures and assessments (both by index
# on county and object). A cancelled measure's last update is its
# cancellation: `cancelled` is final, so nothing touches the row afterwards.
_HEAD = f"""
k AS (
    SELECT CAST(:today AS date) AS today,
           CAST(:zone AS text) AS zone, CAST(:no_measure_days AS integer) AS no_measure_days,
           CAST(:visit_days AS integer) AS visit_days,
           CAST(:look_back_days AS integer) AS look_back_days
), active AS (
    SELECT o.county_code, o.object_id, o.household_id, o.region_code, o.included_on,
           o.whole_household_no_labour, m.measures, m.development_measures,
           m.insurance_measures, m.development_cancelled_on, v.visited_on
    FROM monitoring_objects o
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE x.status <> 'cancelled') AS measures,
               count(*) FILTER (WHERE x.status <> 'cancelled' AND x.development)
                   AS development_measures,
               count(*) FILTER (WHERE x.status <> 'cancelled'
                                  AND x.category = 'insurance_subsidy') AS insurance_measures,
               CAST(max(x.updated_at) FILTER (WHERE x.status = 'cancelled' AND x.development)
                    AT TIME ZONE (SELECT zone FROM k) AS date) AS development_cancelled_on
        FROM measures x
        WHERE x.county_code = o.county_code AND x.object_id = o.object_id) m
    CROSS JOIN LATERAL (SELECT {OBJECT_LAST_VISIT} AS visited_on) v
    WHERE o.status = 'risk_not_eliminated' AND o.region_code LIKE CAST(:scope AS text)
)"""  # noqa: S608 (constant fragments)


def gaps_sql(kinds: tuple[str, ...] = GAP_KINDS) -> str:
    """`WITH k AS (...), active AS (...), gaps AS (<one branch per kind, UNION ALL>)`: the
    head of a statement that then reads `gaps` (county_code, object_id,
    household_id, region_code, kind, since). Parameters: `gap_params()`."""
    union = "\n    UNION ALL".join(_BRANCHES[k] for k in kinds)
    return f"WITH {_HEAD},\ngaps AS ({union}\n)\n"


def gap_params(*, today: date, scope: str) -> dict[str, Any]:
    """The parameters of `gaps_sql`: today, the scope's LIKE pattern, the policy's days."""
    policy = get_policy().assistance
    return {
        "today": today,
        "scope": scope,
        "zone": get_settings().timezone,
        "no_measure_days": policy.no_measure_gap_days,
        "visit_days": policy.visit_interval_days,
        "look_back_days": policy.look_back_interval_days,
    }


# The Chinese label of each kind, for pages that show gaps.
GAP_KIND_LABELS: dict[str, str] = {
    "no_development_measure": "无开发式帮扶措施",
    "no_insurance_subsidy": "未落实参保资助",
    "no_measure_30d": "纳入30天未落实帮扶措施",
    "visit_overdue": "超期未走访",
    "look_back_due": "应开展回头看",
}
