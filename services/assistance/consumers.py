"""The event consumers of assistance."""

from services.assistance.measures import CASE_MEASURES
from shared.events import EventConsumer

CONSUMERS: list[EventConsumer] = [CASE_MEASURES]
