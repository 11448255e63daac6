"""The figures the reporting tests expect from the data set of dataset.py, per
region and period."""

from __future__ import annotations

from typing import Any

from tests.services.reporting.dataset import (
    COUNTY,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_B1,
)

# ------------------------------------------------------------ expected figures
#
# Stock figures (as of TODAY, whatever the period): cases open/overdue/due_soon,
# objects by_type/by_status, measures, feeds. Period figures: the rest.

FEEDS = {"on_time": 1, "due_soon": 1, "late": 1, "never_pushed": 10}

# Warnings, default period. County: W1-W9 (W10 is 2025, W11 another county).
# Town A: W1 W2 W3 W7 W9. Town B: W4 W6 W8. W5 only in the county.
WARNINGS = {
    COUNTY: {
        "received": 9,
        "matched": 5,  # W1 W3 W4 W6 W7
        "unmatched": 2,  # W5 W8
        "below_threshold": 1,  # W2
        "dismissed": 1,  # W9
        "late": 2,  # W6 W7
        "by_department": {
            "medical_insurance": 2,
            "civil_affairs": 3,
            "emergency_management": 1,
            "health": 1,
            "education": 1,
            "housing": 1,
        },
        "by_type": {
            "high_medical_expense": 2,
            "dibao": 2,
            "tekun": 1,
            "disaster": 1,
            "epidemic_impact": 1,
            "school_dropout": 1,
            "unsafe_housing": 1,
        },
    },
    TOWN_A: {
        "received": 5,
        "matched": 3,
        "unmatched": 0,
        "below_threshold": 1,
        "dismissed": 1,
        "late": 1,
        "by_department": {"medical_insurance": 2, "civil_affairs": 1, "health": 1, "housing": 1},
        "by_type": {
            "high_medical_expense": 2,
            "dibao": 1,
            "epidemic_impact": 1,
            "unsafe_housing": 1,
        },
    },
    TOWN_B: {
        "received": 3,
        "matched": 2,
        "unmatched": 1,
        "below_threshold": 0,
        "dismissed": 0,
        "late": 1,
        "by_department": {"civil_affairs": 1, "emergency_management": 1, "education": 1},
        "by_type": {"tekun": 1, "disaster": 1, "school_dropout": 1},
    },
}
WARNINGS[VILLAGE_A1] = WARNINGS[TOWN_A]
WARNINGS[VILLAGE_B1] = WARNINGS[TOWN_B]

# Cases, default period. County: opened C1 C2 C3 C4 C5 C6 C10 C12; decided C1 C2
# C3 C7 C12 (days 10 20 12 40 15: median 15), in time C1 C3 C12; undecided C4
# C5 C6 C10; overdue C4; due soon C5 (11-25) and C10 (deadline today).
CASES = {
    COUNTY: {
        "opened": 8,
        "decided": 5,
        "decided_within_15_days": 3,
        "within_15_days_rate": 0.6,
        "open": 4,
        "overdue": 1,
        "due_soon": 2,
        "median_days_to_decision": 15.0,
    },
    # C1 C2 C4 C10 C12 opened; C1 C2 C7 C12 decided (10 20 40 15: median 17.5).
    TOWN_A: {
        "opened": 5,
        "decided": 4,
        "decided_within_15_days": 2,
        "within_15_days_rate": 0.5,
        "open": 2,
        "overdue": 1,
        "due_soon": 1,
        "median_days_to_decision": 17.5,
    },
    # C3 C5 C6 opened; C3 decided (12 days).
    TOWN_B: {
        "opened": 3,
        "decided": 1,
        "decided_within_15_days": 1,
        "within_15_days_rate": 1.0,
        "open": 2,
        "overdue": 0,
        "due_soon": 1,
        "median_days_to_decision": 12.0,
    },
}
CASES[VILLAGE_A1] = CASES[TOWN_A]
CASES[VILLAGE_B1] = CASES[TOWN_B]

# Objects, default period. by_type counts objects not removed (O1-O5); newly
# included: O1 O2 O3 O6 (O2 for epidemic); look-backs S1 S2 S5; rollback O5;
# removal O6 (O7 was removed in 2025); O4 eliminated naturally.
#
# Persons: the members of each object's household (dataset._MEMBERS):
#   O1 H1 2 (赵德明 钱秀英)   O2 H2 1   O3 H6 2 (郑海涛 王春梅)   O4 H7 1
#   O5 H8 1                   O6 H3 1   O7 H4 1
# County: by_type unstable O1 2 + O3 2 = 4, marginal O2 1 + O5 1 = 2, sudden O4 1
# (O6 O7 removed); by_status not eliminated O1 2 + O2 1 + O3 2 + O5 1 = 6,
# eliminated O4 1, removed O6 1 + O7 1 = 2; newly included unstable O1 2 + O3 2
# = 4, marginal O2 1 + O6 1 = 2, epidemic O2 1.
# by_risk_type: objects at risk O1 {illness}, O2 {epidemic, lack_of_funds}, O3
# {disaster}, O5 {illness}: illness 2, epidemic 1, lack_of_funds 1, disaster 1
# (O4's accident/epidemic is eliminated, O6 O7 removed).
MONITORING_OBJECTS = {
    COUNTY: {
        "by_type": {"unstable_alleviated": 2, "marginal": 2, "sudden_hardship": 1},
        "by_status": {"risk_not_eliminated": 4, "risk_eliminated": 1, "removed": 2},
        "newly_included": {"unstable_alleviated": 2, "marginal": 2, "epidemic": 1},
        "persons": {
            "by_type": {"unstable_alleviated": 4, "marginal": 2, "sudden_hardship": 1},
            "by_status": {"risk_not_eliminated": 6, "risk_eliminated": 1, "removed": 2},
            "newly_included": {"unstable_alleviated": 4, "marginal": 2, "epidemic": 1},
        },
        "by_risk_type": {"illness": 2, "epidemic": 1, "lack_of_funds": 1, "disaster": 1},
        "look_backs": 3,
        "eliminated_naturally": 1,
        "rollbacks": 1,
        "removals": 1,
    },
    TOWN_A: {  # O1 O2 O6 O7
        "by_type": {"unstable_alleviated": 1, "marginal": 1},
        "by_status": {"risk_not_eliminated": 2, "removed": 2},
        "newly_included": {"unstable_alleviated": 1, "marginal": 2, "epidemic": 1},
        # by_type O1 2, O2 1; by_status at risk O1 2 + O2 1 = 3, removed O6 1 + O7 1
        # = 2; newly included O1 2, O2 1 + O6 1 = 2, epidemic O2 1.
        "persons": {
            "by_type": {"unstable_alleviated": 2, "marginal": 1},
            "by_status": {"risk_not_eliminated": 3, "removed": 2},
            "newly_included": {"unstable_alleviated": 2, "marginal": 2, "epidemic": 1},
        },
        "by_risk_type": {"illness": 1, "epidemic": 1, "lack_of_funds": 1},  # O1, O2
        "look_backs": 0,
        "eliminated_naturally": 0,
        "rollbacks": 0,
        "removals": 1,
    },
    TOWN_B: {  # O3 O4 O5
        "by_type": {"unstable_alleviated": 1, "marginal": 1, "sudden_hardship": 1},
        "by_status": {"risk_not_eliminated": 2, "risk_eliminated": 1},
        "newly_included": {"unstable_alleviated": 1},
        # by_type O3 2, O5 1, O4 1; by_status at risk O3 2 + O5 1 = 3, eliminated
        # O4 1; newly included O3 2.
        "persons": {
            "by_type": {"unstable_alleviated": 2, "marginal": 1, "sudden_hardship": 1},
            "by_status": {"risk_not_eliminated": 3, "risk_eliminated": 1},
            "newly_included": {"unstable_alleviated": 2},
        },
        "by_risk_type": {"disaster": 1, "illness": 1},  # O3, O5
        "look_backs": 3,
        "eliminated_naturally": 1,
        "rollbacks": 1,
        "removals": 0,
    },
}
MONITORING_OBJECTS[VILLAGE_A1] = MONITORING_OBJECTS[TOWN_A]
MONITORING_OBJECTS[VILLAGE_B1] = MONITORING_OBJECTS[TOWN_B]

# Measures (stock). by_category leaves out the cancelled ME4 and ME8. Labour-capable
# objects at risk: O1 (ME1), O3 (only the cancelled ME4), O5 (ME6); O2's household
# has no one able to work.
MEASURES = {
    COUNTY: {
        "by_category": {
            "industry": 1,
            "insurance_subsidy": 1,
            "dibao": 1,
            "tekun": 1,
            "public_welfare_job": 1,
            "microcredit": 1,
            "temporary_assistance": 1,
        },
        "by_status": {"planned": 3, "in_progress": 2, "completed": 2, "cancelled": 2},
        "labour_capable_objects": 3,
        "labour_capable_with_development": 2,
        "development_coverage_rate": 0.6667,
    },
    TOWN_A: {
        "by_category": {"industry": 1, "insurance_subsidy": 1, "dibao": 1},
        "by_status": {"planned": 1, "in_progress": 1, "completed": 1, "cancelled": 1},
        "labour_capable_objects": 1,
        "labour_capable_with_development": 1,
        "development_coverage_rate": 1.0,
    },
    TOWN_B: {
        "by_category": {
            "tekun": 1,
            "public_welfare_job": 1,
            "microcredit": 1,
            "temporary_assistance": 1,
        },
        "by_status": {"planned": 2, "in_progress": 1, "completed": 1, "cancelled": 1},
        "labour_capable_objects": 2,
        "labour_capable_with_development": 1,
        "development_coverage_rate": 0.5,
    },
}
MEASURES[VILLAGE_A1] = MEASURES[TOWN_A]
MEASURES[VILLAGE_B1] = MEASURES[TOWN_B]

# Village A2 and any region without rows: every count zero, rates and median null.
ZERO: dict[str, Any] = {
    "warnings": {
        "received": 0,
        "matched": 0,
        "unmatched": 0,
        "below_threshold": 0,
        "dismissed": 0,
        "late": 0,
        "by_department": {},
        "by_type": {},
    },
    "cases": {
        "opened": 0,
        "decided": 0,
        "decided_within_15_days": 0,
        "within_15_days_rate": None,
        "open": 0,
        "overdue": 0,
        "due_soon": 0,
        "median_days_to_decision": None,
    },
    "monitoring_objects": {
        "by_type": {},
        "by_status": {},
        "newly_included": {},
        "persons": {"by_type": {}, "by_status": {}, "newly_included": {}},
        "by_risk_type": {},
        "look_backs": 0,
        "eliminated_naturally": 0,
        "rollbacks": 0,
        "removals": 0,
    },
    "measures": {
        "by_category": {},
        "by_status": {},
        "labour_capable_objects": 0,
        "labour_capable_with_development": 0,
        "development_coverage_rate": None,
    },
    "feeds": FEEDS,
}

# The county in NOVEMBER: period figures change (W2 W3 W4 W5 W7; cases C4 C5 C6
# C10 opened and none decided; no inclusion, rollback or removal; look-back S5),
# stock figures stay as in the default period.
NOVEMBER_COUNTY: dict[str, Any] = {
    "warnings": {
        "received": 5,
        "matched": 3,  # W3 W4 W7
        "unmatched": 1,  # W5
        "below_threshold": 1,  # W2
        "dismissed": 0,
        "late": 1,  # W7
        "by_department": {"medical_insurance": 1, "civil_affairs": 3, "health": 1},
        "by_type": {"high_medical_expense": 1, "dibao": 2, "tekun": 1, "epidemic_impact": 1},
    },
    "cases": {
        "opened": 4,
        "decided": 0,
        "decided_within_15_days": 0,
        "within_15_days_rate": None,
        "open": 4,
        "overdue": 1,
        "due_soon": 2,
        "median_days_to_decision": None,
    },
    "monitoring_objects": {
        "by_type": MONITORING_OBJECTS[COUNTY]["by_type"],
        "by_status": MONITORING_OBJECTS[COUNTY]["by_status"],
        "newly_included": {},
        "persons": {
            "by_type": MONITORING_OBJECTS[COUNTY]["persons"]["by_type"],
            "by_status": MONITORING_OBJECTS[COUNTY]["persons"]["by_status"],
            "newly_included": {},
        },
        "by_risk_type": MONITORING_OBJECTS[COUNTY]["by_risk_type"],
        "look_backs": 1,
        "eliminated_naturally": 0,  # O4's was in February
        "rollbacks": 0,
        "removals": 0,
    },
    "measures": MEASURES[COUNTY],
    "feeds": FEEDS,
}


def expected(region: str) -> dict[str, Any]:
    """The default period's figures of `region` (zero entries of maps left out)."""
    if region not in WARNINGS:
        return ZERO
    return {
        "warnings": WARNINGS[region],
        "cases": CASES[region],
        "monitoring_objects": MONITORING_OBJECTS[region],
        "measures": MEASURES[region],
        "feeds": FEEDS,
    }


_MAPS = frozenset(
    {"by_department", "by_type", "by_status", "newly_included", "by_category", "by_risk_type"}
)


def nonzero(figures: dict[str, Any]) -> dict[str, Any]:
    """`figures` with the zero entries of its maps removed (for comparing with `expected`)."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if key in _MAPS and isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if v}
        elif isinstance(value, dict):
            out[key] = nonzero(value)
        else:
            out[key] = value
    return out
