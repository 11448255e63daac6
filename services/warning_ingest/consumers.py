"""The event consumers of warning_ingest."""

from services.warning_ingest.case_outcomes import CASE_OUTCOMES
from services.warning_ingest.unmatched import REMATCH
from shared.events import EventConsumer

CONSUMERS: list[EventConsumer] = [REMATCH, CASE_OUTCOMES]
