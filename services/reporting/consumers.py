"""The event consumers of reporting."""

from services.reporting.summaries import SUMMARIES
from shared.events import EventConsumer

CONSUMERS: list[EventConsumer] = [SUMMARIES]
