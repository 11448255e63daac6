"""The scheduled jobs of assistance."""

from datetime import timedelta

from services.assistance.problems.deadlines import scan_gaps_and_problems
from shared.scheduler import Job

# Daily at local midnight: every gap is counted in days, so a new one opens
# when the date changes.
GAP_SCAN = Job(
    name="gap-scan",
    func=scan_gaps_and_problems,
    every=timedelta(days=1),
    description=(
        "Emit assistance.gap_opened once for each new assistance gap and look-back due,"
        " and problem.overdue once for each problem past its rectification deadline"
    ),
)

JOBS: list[Job] = [GAP_SCAN]
