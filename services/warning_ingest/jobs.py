"""The scheduled jobs of warning_ingest."""

from datetime import timedelta

from services.warning_ingest.feeds.cadence import scan_feeds
from shared.scheduler import Job

# Hourly: a missed due time is announced within the hour it passes.
FEED_SCAN = Job(
    name="feed-scan",
    func=scan_feeds,
    every=timedelta(hours=1),
    description="Emit feed.late once for each periodic feed whose due time has passed",
)

JOBS: list[Job] = [FEED_SCAN]
