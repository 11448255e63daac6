"""The event consumers of identification."""

from services.identification.cases.opening import CASES_FROM_WARNINGS
from shared.events import EventConsumer

CONSUMERS: list[EventConsumer] = [CASES_FROM_WARNINGS]
