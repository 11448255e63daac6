"""Response shapes of `GET /feeds` and `GET /catalog` (API.md, warning_ingest)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.feeds import FeedStateCode, Population


class FeedOut(BaseModel):
    """One periodic feed: a department's duty to push one warning type on a cadence."""

    department: str
    department_label: str
    warning_type: str
    warning_type_label: str
    population: Population = Field(
        description="`all`; for a type tracked per population (high_medical_expense) "
        "`monitored_and_alleviated` or `general`, each a feed with its own cadence"
    )
    cadence_days: int | None = Field(
        description="Days between pushes; null if the policy sets no cadence for the type"
    )
    last_push_at: datetime | None
    next_due_at: datetime | None = Field(description="last_push_at + cadence_days")
    state: FeedStateCode
    late_records_30d: int = Field(
        description="The department's warnings received late in the last 30 days (all types)"
    )


class LateRecordsOut(BaseModel):
    """Late records of one event-dated type (record timeliness, SPEC §3)."""

    department: str
    warning_type: str
    late_records_30d: int


class FeedsOut(BaseModel):
    items: list[FeedOut]
    late_records: list[LateRecordsOut]


class WarningTypeOut(BaseModel):
    code: str
    label: str
    kind: Literal["periodic", "event"]
    cadence_days: int | None = Field(
        description="Periodic types: days between pushes; for a type with a cadence per "
        "population, the shortest of them (the most demanding one the department must meet)"
    )
    cadence_days_by_population: dict[str, int] | None = Field(
        description="Types the policy tracks per population: population "
        "(monitored_and_alleviated, general) -> days between pushes, each population a "
        "feed due on its own; null for every other type"
    )
    late_after_days: int | None = Field(
        description="Event-dated types: a record whose event_date is more days before it "
        "arrives is accepted but marked late"
    )
    required_fields: list[str]
    optional_fields: list[str]


class DepartmentOut(BaseModel):
    code: str
    label: str
    warning_types: list[WarningTypeOut]


class RecordFieldOut(BaseModel):
    """A field of a pushed warning record, with its limits."""

    name: str
    type: Literal["string", "date", "number", "object"]
    required: Literal["always", "event_types", "high_medical_expense", "never"]
    description: str
    min_length: int | None = None
    max_length: int | None = None
    max_bytes: int | None = None
    minimum: float | None = None
    pattern: str | None = None


class CatalogOut(BaseModel):
    departments: list[DepartmentOut]
    record_fields: list[RecordFieldOut]
