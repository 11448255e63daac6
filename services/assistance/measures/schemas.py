"""Request and response shapes of assistance measures (API.md, assistance)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.dates import Day
from shared.money import Yuan
from shared.text import FreeText

MeasureStatus = Literal["planned", "in_progress", "completed", "cancelled"]


class MeasureIn(BaseModel):
    object_id: UUID | None = Field(default=None, description="The monitoring object")
    case_id: UUID | None = Field(
        default=None, description="A green-channel case, before its decision"
    )
    category: str = Field(description="A measure category of `GET /assistance/v1/catalog`")
    responsible_department: str | None = Field(
        default=None, description="Default: the category's usual department"
    )
    planned_on: Day
    amount_yuan: Yuan | None = Field(default=None, ge=0)
    description: FreeText | None = Field(default=None, max_length=2000)


class MeasureMove(BaseModel):
    status: MeasureStatus
    started_on: Day | None = None
    completed_on: Day | None = None
    amount_yuan: Yuan | None = Field(default=None, ge=0)


class MeasureOut(BaseModel):
    measure_id: UUID
    object_id: UUID | None
    case_id: UUID | None
    household_id: str
    region_code: str
    category: str
    development: bool
    responsible_department: str
    status: MeasureStatus
    planned_on: date
    started_on: date | None
    completed_on: date | None
    amount_yuan: Yuan | None
    description: str | None = None


class MeasurePage(BaseModel):
    items: list[MeasureOut]
    next_cursor: str | None


class MeasureCategoryOut(BaseModel):
    code: str
    label: str
    group: str
    development: bool
    responsible_department: str


class AssistanceCatalog(BaseModel):
    measure_categories: list[MeasureCategoryOut]
    statuses: dict[str, str]
