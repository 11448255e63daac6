"""The event consumers of warning_ingest."""

from services.warning_ingest.feedback.case_outcomes import CASE_OUTCOMES
from services.warning_ingest.warnings.unmatched import REMATCH
from services.warning_ingest.webhooks.fanout import WEBHOOK_FANOUT
from shared.events import EventConsumer

CONSUMERS: list[EventConsumer] = [REMATCH, CASE_OUTCOMES, WEBHOOK_FANOUT]
