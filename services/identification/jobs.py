"""The scheduled jobs of identification."""

from datetime import timedelta

from services.identification.cases.overdue import scan_overdue
from shared.scheduler import Job

# Every 15 minutes: a deadline passes at local midnight, and the case is
# announced within a quarter of an hour of it.
OVERDUE_SCAN = Job(
    name="overdue-scan",
    func=scan_overdue,
    every=timedelta(minutes=15),
    description="Mark undecided cases past their deadline and emit case.overdue once for each",
)

JOBS: list[Job] = [OVERDUE_SCAN]
