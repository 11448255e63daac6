"""Request and response shapes of the problem ledger (问题台账; API.md
"Screening campaigns"). `type` is checked against the catalog by the
service, so that a wrong one is 422 `invalid_code`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.dates import Day
from shared.text import FreeText

ProblemStatus = Literal["open", "rectified"]


class ProblemIn(BaseModel):
    campaign_id: UUID | None = Field(default=None, description="The campaign that found it")
    region_code: str = Field(max_length=12, description="12-digit county, town or village code")
    household_id: str | None = Field(default=None, max_length=40)
    type: str = Field(max_length=40, description="A problem type of the campaigns catalog")
    description: FreeText = Field(min_length=1, max_length=2000)
    found_on: Day
    due_on: Day = Field(description="The rectification deadline, on or after found_on")
    responsible: FreeText = Field(min_length=1, max_length=100, description="Who answers for it")


class ProblemRectifyIn(BaseModel):
    status: Literal["rectified"]
    rectified_on: Day
    action: FreeText = Field(min_length=1, max_length=2000, description="What was done")


class ProblemOut(BaseModel):
    problem_id: UUID
    campaign_id: UUID | None
    region_code: str
    household_id: str | None
    type: str
    description: str
    found_on: date
    due_on: date
    responsible: str
    status: ProblemStatus
    rectified_on: date | None
    action: str | None
    overdue: bool = Field(description="Open and today is past due_on (computed live)")
    overdue_at: datetime | None = Field(
        default=None, description="When the daily scan announced it overdue"
    )
    created_at: datetime | None = None


class ProblemPage(BaseModel):
    items: list[ProblemOut]
    next_cursor: str | None
