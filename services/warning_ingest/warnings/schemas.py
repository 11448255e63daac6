"""Response shapes of warnings and the unmatched queue, and the resolution
request (API.md, warning_ingest)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.money import Yuan
from shared.text import FreeText

WarningStatus = Literal["matched", "unmatched", "below_threshold", "dismissed"]


class WarningOut(BaseModel):
    warning_id: UUID
    department: str
    warning_type: str
    source_record_id: str
    id_number: str = Field(description="Masked: first 6 and last 4 characters")
    name: str
    region_code: str
    reported_region_code: str | None
    household_id: str | None
    event_date: date | None
    amount_yuan: Yuan | None
    received_at: datetime
    status: WarningStatus
    late: bool
    name_mismatch: bool
    case_id: UUID | None
    outcome: str | None = None
    resolution_reason: str | None = None


class WarningPage(BaseModel):
    items: list[WarningOut]
    next_cursor: str | None


class ResolveIn(BaseModel):
    action: Literal["dismiss", "match"]
    reason: FreeText | None = Field(default=None, min_length=1, max_length=500)
    household_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,40}$")
