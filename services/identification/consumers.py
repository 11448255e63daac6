"""The event consumers of identification."""

from services.identification.cases.from_visits import CASES_FROM_VISITS
from services.identification.cases.opening import CASES_FROM_WARNINGS
from shared.events import EventConsumer

CONSUMERS: list[EventConsumer] = [CASES_FROM_WARNINGS, CASES_FROM_VISITS]
