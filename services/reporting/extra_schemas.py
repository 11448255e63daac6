"""Response shapes of `GET /feeds` (compliance) and `GET /red_flags` (API.md,
reporting). Aggregates only: no name, ID number or household id."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.reporting.schemas import PeriodOut
from shared.feeds import FeedStateCode


class FeedComplianceOut(BaseModel):
    department: str
    warning_type: str
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


class PlaceOut(BaseModel):
    region_code: str
    region_name: str


class HighRatioPlaceOut(PlaceOut):
    ratio: float = Field(description="Objects with risk not eliminated / registered persons")


class RedFlags(BaseModel):
    region: str
    zero_object_villages: list[PlaceOut] = Field(description="Villages without a current object")
    high_ratio_regions: list[HighRatioPlaceOut] = Field(
        description="Towns and villages over the policy's high ratio"
    )
    off_system_households: int = Field(
        description="体外循环: not monitored, with civil-affairs aid by a recent warning (and no"
        " recent case) or by the latest screening"
    )
    should_include_households: int = Field(
        description="应纳未纳: not monitored, and the latest household visit found income below"
        " the line, or the latest screening found unsafe guarantees or water or income below it"
    )
