"""Response shapes of the follow-up list (API.md, identification, added 2026-12)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class FollowUpOut(BaseModel):
    household_id: str
    region_code: str
    case_id: UUID = Field(description="The household's latest case")
    outcome: Literal["not_included", "not_eligible"]
    decided_on: date
    last_visit_on: date | None = Field(
        description="The latest household visit of a case or monthly visit; null if none"
    )


class FollowUpPage(BaseModel):
    items: list[FollowUpOut]
    next_cursor: str | None
