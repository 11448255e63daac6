"""The event consumers of assistance."""

from services.assistance.measures.lifecycle import CASE_MEASURES
from shared.events import EventConsumer

CONSUMERS: list[EventConsumer] = [CASE_MEASURES]
