"""Request and response shapes of cases (API.md, identification)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.dates import Day
from shared.text import FreeText

Outcome = Literal["included", "not_included", "not_eligible", "risk_updated"]
CaseSource = Literal["department_warning", "self_report", "cadre_screening"]
CaseState = Literal["open", "decided"]


class ManualClueIn(BaseModel):
    household_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,40}$")
    source: Literal["self_report", "cadre_screening"]
    found_on: Day = Field(description="When the clue was found; not in the future")
    description: FreeText = Field(min_length=1, max_length=2000)
    risk_types: list[str] = Field(
        default_factory=list,
        description="Risk type codes the clue names (a sudden one allows the green channel)",
    )


class DecisionOut(BaseModel):
    outcome: Outcome
    monitoring_type: str | None = None
    risk_types: list[str] | None = None
    reason: str | None = None
    decided_on: date


class CaseSteps(BaseModel):
    household_visit: dict[str, Any] | None = None
    village_review: dict[str, Any] | None = None
    township_review: dict[str, Any] | None = None
    county_approval: dict[str, Any] | None = None


class CaseOut(BaseModel):
    case_id: UUID
    household_id: str
    region_code: str
    source: CaseSource
    description: str | None = None
    risk_types: list[str] = Field(default_factory=list)
    opened_on: date
    deadline: date = Field(description="opened_on + 15 days; the decision is due that day")
    days_left: int = Field(description="deadline - today; negative once overdue")
    state: CaseState
    completed: bool = Field(description="Every step done (a green-channel case may lag)")
    overdue: bool
    due_soon: bool
    green_channel: bool
    steps: CaseSteps
    decision: DecisionOut | None
    warning_ids: list[UUID]


class CasePage(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None
