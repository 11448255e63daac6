"""Every table of the shared schema, one module per aggregate, one metadata.

Place-bound tables carry `county_code` inside their primary key and every unique
key (SPEC §10), so that Citus can distribute them by county without change.
"""

from sqlmodel import SQLModel

from shared.models.assistance import (
    Assessment,
    GapNotice,
    HouseholdGapNotice,
    HouseholdVisit,
    Measure,
)
from shared.models.audit import AuditRecord
from shared.models.events import ConsumerPosition, Event, JobRun
from shared.models.identification import Case, CaseStep, CaseWarning, MonitoringObject
from shared.models.principals import Principal
from shared.models.red_flags import RedFlagHousehold, RedFlagSummary, RedFlagVillage
from shared.models.registry import Household, Member, Region
from shared.models.reporting import (
    CaseSummary,
    MeasureSummary,
    ObjectEventSummary,
    ObjectRiskSummary,
    ObjectSummary,
    OpenCaseSummary,
    PersonSummary,
    WarningSummary,
    WeeklySnapshot,
)
from shared.models.requests import ObjectRequest
from shared.models.screening import Campaign, Problem, Screening, SpotCheck, SpotCheckHousehold
from shared.models.warnings import Batch, FeedLateNotice, FeedPush, Warning, WarningSource
from shared.models.webhooks import WebhookDelivery, WebhookSubscription

metadata = SQLModel.metadata

__all__ = [
    "Assessment",
    "AuditRecord",
    "Batch",
    "Campaign",
    "Case",
    "CaseStep",
    "CaseSummary",
    "CaseWarning",
    "ConsumerPosition",
    "Event",
    "FeedLateNotice",
    "FeedPush",
    "GapNotice",
    "Household",
    "HouseholdGapNotice",
    "HouseholdVisit",
    "JobRun",
    "Measure",
    "MeasureSummary",
    "Member",
    "MonitoringObject",
    "ObjectEventSummary",
    "ObjectRequest",
    "ObjectRiskSummary",
    "ObjectSummary",
    "OpenCaseSummary",
    "PersonSummary",
    "Principal",
    "Problem",
    "RedFlagHousehold",
    "RedFlagSummary",
    "RedFlagVillage",
    "Region",
    "Screening",
    "SpotCheck",
    "SpotCheckHousehold",
    "Warning",
    "WarningSource",
    "WarningSummary",
    "WebhookDelivery",
    "WebhookSubscription",
    "WeeklySnapshot",
    "metadata",
]
