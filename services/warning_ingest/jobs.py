"""The scheduled jobs of warning_ingest."""

from datetime import timedelta

from services.warning_ingest.feeds.cadence import scan_feeds
from services.warning_ingest.webhooks.retention import purge_deliveries
from shared.scheduler import Job

# Hourly: a missed due time is announced within the hour it passes.
FEED_SCAN = Job(
    name="feed-scan",
    func=scan_feeds,
    every=timedelta(hours=1),
    description="Emit feed.late once for each periodic feed whose due time has passed",
)

# Hourly: settled webhook deliveries past the policy's retention, a bounded
# number per run (webhooks/retention.py).
WEBHOOK_RETENTION = Job(
    name="webhook-retention",
    func=purge_deliveries,
    every=timedelta(hours=1),
    description="Delete delivered and failed webhook deliveries older than the retention",
)

JOBS: list[Job] = [FEED_SCAN, WEBHOOK_RETENTION]
