"""Request and response shapes of monthly visits (API.md, assistance, added 2026-12)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from shared.dates import Day
from shared.money import Yuan
from shared.text import FreeText

_Members = Field(default=None, ge=0, le=99)


class VisitIn(BaseModel):
    visited_on: Day = Field(description="Not in the future")
    income_per_capita_yuan: Yuan | None = None
    labour_capable_members: int | None = _Members
    employed_members: int | None = _Members
    member_changes: FreeText | None = Field(
        default=None, max_length=2000, description="Births, deaths, marriages, moves..."
    )
    new_risk: bool = Field(description="A new risk found: identification opens a case")
    notes: FreeText | None = Field(default=None, max_length=2000)


class VisitOut(BaseModel):
    visit_id: UUID
    household_id: str
    region_code: str
    object_id: UUID | None = Field(description="The household's object at risk, if any")
    visited_on: date
    income_per_capita_yuan: Yuan | None
    labour_capable_members: int | None
    employed_members: int | None
    member_changes: str | None
    new_risk: bool
    notes: str | None
    recorded_at: datetime
