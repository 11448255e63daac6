"""The scheduled jobs of reporting."""

from datetime import timedelta

from services.reporting.trends.snapshots import take_weekly_snapshot
from shared.scheduler import Job

# Weekly, from the default anchor: Mondays at 00:00 Asia/Shanghai, so each
# snapshot is the figures as the week starts (周通报).
WEEKLY_SNAPSHOT = Job(
    name="weekly-snapshot",
    func=take_weekly_snapshot,
    every=timedelta(weeks=1),
    description="Store the overview's figures of every county and town for the trend lines",
)

JOBS: list[Job] = [WEEKLY_SNAPSHOT]
