"""The scheduled jobs of assistance."""

from datetime import timedelta

from services.assistance.gaps import scan_gaps
from shared.scheduler import Job

# Daily at local midnight: every gap is counted in days, so a new one opens
# when the date changes.
GAP_SCAN = Job(
    name="gap-scan",
    func=scan_gaps,
    every=timedelta(days=1),
    description="Emit assistance.gap_opened once for each new assistance gap and look-back due",
)

JOBS: list[Job] = [GAP_SCAN]
