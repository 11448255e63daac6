"""Response shapes of the worklists (API.md, assistance, added 2026-12)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

RollbackReason = Literal[
    "whole_household_no_labour",
    "income_below_line",
    "three_guarantees_not_secure",
    "drinking_water_not_secure",
]


class ReadyOut(BaseModel):
    object_id: UUID
    household_id: str
    region_code: str
    included_on: date


class ReadyPage(BaseModel):
    items: list[ReadyOut]
    next_cursor: str | None


class RollbackCandidateOut(BaseModel):
    object_id: UUID
    household_id: str
    region_code: str
    eliminated_on: date
    reasons: list[RollbackReason] = Field(description="Why it should be rolled back (回退)")


class RollbackCandidatePage(BaseModel):
    items: list[RollbackCandidateOut]
    next_cursor: str | None
