"""The progress table's expected figures on campaign_dataset.py, worked out by
hand: each count names the households and objects it comes from."""

from __future__ import annotations

from typing import Any

from tests.services.reporting.campaign_dataset import VILLAGE_B2
from tests.services.reporting.dataset import (
    COUNTY,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
)

# ------------------------------------------------------------ expected figures
#
# Screened in CP1, by part (monitored = an object not removed today, else the
# household's category) and persons:
#   A1: H1 monitored (2), H2 monitored (1), H3 general (O6 removed; 1)
#   A2: H5 general (1), H21 poverty_alleviated (2), H22 monitored (1)
#   B1: H6 monitored (2), H7 monitored (O4 eliminated, not removed; 1),
#       H23 poverty_alleviated (O23 removed; 3)
#   B2: none
# Registered: A1 4 (H1-H4), A2 3 (H5 H21 H22), B1 4 (H6 H7 H8 H23), B2 2 (H24 H25).
#
# Objects in the window 2026-04-15..2026-06-12:
#   newly included: O2 (A1 marginal, epidemic), O22 (A2 sudden_hardship, epidemic,
#   on the last day), O23 (B1 unstable_alleviated); not O1 (03-11), O3 (06-13, the
#   day after), O24 (04-14, the day before), OX (another county).
#   look-backs: S2 (B1, 05-10), SA (B2, 04-15); not S1 S5 SB S4, nor routine S3 SC.
#   rollbacks: O5 (B1, 05-10); not O25 (04-10).
#   removals: O23 (B1, 06-01); not O6 (07-01), O7 (2025).
# The same in persons (members of the households today): O2 H2 1, O22 H22 1,
# O23 H23 3 (杨秀兰 朱德胜 秦小燕), O5 H8 1. So newly included A1 marginal 1
# (epidemic 1), A2 sudden_hardship 1 (epidemic 1), B1 unstable_alleviated 3;
# rolled back B1 1 (O5); removed B1 3 (O23).


def _row(**figures: Any) -> dict[str, Any]:
    row = dict.fromkeys(FIGURE_CODES, 0)
    row.update(dict.fromkeys(REPORTED))
    row.update(figures)
    return row


REPORTED = ("deployment_meetings", "staff_deployed", "data_items_corrected", "staff_trained")

FIGURE_CODES = (
    "households_screened",
    "households_screened_general",
    "households_screened_poverty_alleviated",
    "households_screened_monitored",
    "persons_screened",
    "persons_screened_general",
    "persons_screened_poverty_alleviated",
    "persons_screened_monitored",
    "households_registered",
    "coverage_rate",
    "newly_included_marginal",
    "newly_included_unstable_alleviated",
    "newly_included_sudden_hardship",
    "newly_included_epidemic",
    "persons_newly_included_marginal",
    "persons_newly_included_unstable_alleviated",
    "persons_newly_included_sudden_hardship",
    "persons_newly_included_epidemic",
    "look_backs",
    "rollbacks",
    "persons_rolled_back",
    "removals",
    "persons_removed",
    "problems_found",
    "problems_rectified",
    "deployment_meetings",
    "staff_deployed",
    "data_items_corrected",
    "staff_trained",
)

EXPECTED: dict[str, dict[str, Any]] = {
    VILLAGE_A1: _row(
        households_screened=3,
        households_screened_general=1,
        households_screened_monitored=2,
        persons_screened=4,  # 2 + 1 + 1
        persons_screened_general=1,
        persons_screened_monitored=3,
        households_registered=4,
        coverage_rate=0.75,
        newly_included_marginal=1,
        newly_included_epidemic=1,
        persons_newly_included_marginal=1,  # O2: H2 1
        persons_newly_included_epidemic=1,
        problems_found=2,  # P1 P2
        problems_rectified=1,  # P1
    ),
    VILLAGE_A2: _row(
        households_screened=3,
        households_screened_general=1,
        households_screened_poverty_alleviated=1,
        households_screened_monitored=1,
        persons_screened=4,  # 1 + 2 + 1
        persons_screened_general=1,
        persons_screened_poverty_alleviated=2,
        persons_screened_monitored=1,
        households_registered=3,
        coverage_rate=1.0,
        newly_included_sudden_hardship=1,
        newly_included_epidemic=1,
        persons_newly_included_sudden_hardship=1,  # O22: H22 1
        persons_newly_included_epidemic=1,
    ),
    VILLAGE_B1: _row(
        households_screened=3,
        households_screened_poverty_alleviated=1,
        households_screened_monitored=2,
        persons_screened=6,  # 2 + 1 + 3
        persons_screened_poverty_alleviated=3,
        persons_screened_monitored=3,
        households_registered=4,
        coverage_rate=0.75,
        newly_included_unstable_alleviated=1,
        persons_newly_included_unstable_alleviated=3,  # O23: H23 3
        look_backs=1,
        rollbacks=1,
        persons_rolled_back=1,  # O5: H8 1
        removals=1,
        persons_removed=3,  # O23: H23 3
        problems_found=1,  # P3
    ),
    VILLAGE_B2: _row(households_registered=2, coverage_rate=0.0, look_backs=1),
    TOWN_A: _row(
        households_screened=6,
        households_screened_general=2,
        households_screened_poverty_alleviated=1,
        households_screened_monitored=3,
        persons_screened=8,
        persons_screened_general=2,
        persons_screened_poverty_alleviated=2,
        persons_screened_monitored=4,
        households_registered=7,
        coverage_rate=0.8571,  # 6/7 = 0.857142...
        newly_included_marginal=1,
        newly_included_sudden_hardship=1,
        newly_included_epidemic=2,
        persons_newly_included_marginal=1,  # A1's O2
        persons_newly_included_sudden_hardship=1,  # A2's O22
        persons_newly_included_epidemic=2,  # 1 + 1
        problems_found=2,
        problems_rectified=1,
    ),
    TOWN_B: _row(
        households_screened=3,
        households_screened_poverty_alleviated=1,
        households_screened_monitored=2,
        persons_screened=6,
        persons_screened_poverty_alleviated=3,
        persons_screened_monitored=3,
        households_registered=6,
        coverage_rate=0.5,
        newly_included_unstable_alleviated=1,
        persons_newly_included_unstable_alleviated=3,  # B1's O23
        look_backs=2,
        rollbacks=1,
        persons_rolled_back=1,
        removals=1,
        persons_removed=3,
        problems_found=2,  # P3, P4 (filed at the town)
        problems_rectified=1,  # P4
    ),
}
# The county's total: both towns, plus CP1's reported figures.
EXPECTED[COUNTY] = _row(
    households_screened=9,
    households_screened_general=2,
    households_screened_poverty_alleviated=2,
    households_screened_monitored=5,
    persons_screened=14,
    persons_screened_general=2,
    persons_screened_poverty_alleviated=5,
    persons_screened_monitored=7,
    households_registered=13,
    coverage_rate=0.6923,  # 9/13 = 0.692307...
    newly_included_marginal=1,
    newly_included_unstable_alleviated=1,
    newly_included_sudden_hardship=1,
    newly_included_epidemic=2,
    persons_newly_included_marginal=1,  # O2
    persons_newly_included_unstable_alleviated=3,  # O23
    persons_newly_included_sudden_hardship=1,  # O22
    persons_newly_included_epidemic=2,  # O2 1 + O22 1
    look_backs=2,
    rollbacks=1,
    persons_rolled_back=1,  # O5
    removals=1,
    persons_removed=3,  # O23
    problems_found=4,
    problems_rectified=2,
    deployment_meetings=6,
    staff_deployed=85,
    data_items_corrected=37,
    staff_trained=120,
)

# Row order of the county's table, with each row's level.
COUNTY_ROWS = [
    (TOWN_A, "首善街道", "town"),
    (VILLAGE_A1, "城关村", "village"),
    (VILLAGE_A2, "西街村", "village"),
    (TOWN_B, "横渠镇", "town"),
    (VILLAGE_B1, "横渠村", "village"),
    (VILLAGE_B2, "营头村", "village"),
    (COUNTY, "眉县", "total"),
]
