"""Response shapes of `GET /feeds` (compliance, API.md reporting). Aggregates
only: no name, ID number or household id."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.reporting.overview.schemas import PeriodOut
from shared.feeds import FeedStateCode, Population


class FeedComplianceOut(BaseModel):
    department: str
    warning_type: str
    population: Population = Field(
        description="`all`, or for high_medical_expense `monitored_and_alleviated` or `general`"
    )
    cadence_days: int | None = Field(description="Null if the policy sets no cadence")
    last_push_at: datetime | None
    next_due_at: datetime | None = Field(description="last_push_at + cadence_days")
    state: FeedStateCode = Field(description="As of now")
    expected_pushes: int = Field(
        description="Cadence windows from date_from lying wholly in the period and ended by today"
    )
    on_time_pushes: int = Field(description="Expected windows with at least one push")
    on_time_rate: float | None = Field(
        description="on_time_pushes / expected_pushes (0..1); null when none was expected"
    )


class FeedComplianceRows(BaseModel):
    period: PeriodOut
    items: list[FeedComplianceOut]
