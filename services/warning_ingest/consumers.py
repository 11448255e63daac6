"""The event consumers of warning_ingest."""

from services.warning_ingest.feedback.case_outcomes import CASE_OUTCOMES
from services.warning_ingest.warnings.unmatched import REMATCH
from shared.events import EventConsumer

CONSUMERS: list[EventConsumer] = [REMATCH, CASE_OUTCOMES]
