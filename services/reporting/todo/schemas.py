"""Response shape of `GET /reporting/v1/worklist`, the staff to-do list (待办事项).

Ids, codes and dates only: no name, ID number or household id. Each item's
`href` is the JSON that tells the rest, under the caller's own token."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field


class CaseItem(BaseModel):
    case_id: UUID
    source: str = Field(description="department_warning | self_report | cadre_screening")
    deadline: date
    days_left: int = Field(description="deadline - today; negative once overdue")
    href: str = Field(description="/identification/v1/cases/{case_id}")


class GapItem(BaseModel):
    object_id: UUID | None = Field(
        description="Null for a poverty-alleviated household without an object at risk"
    )
    kind: str = Field(description="A gap kind of GET /assistance/v1/gaps")
    since: date
    href: str = Field(
        description="/identification/v1/monitoring_objects/{object_id}, or the village's gaps"
        " of that kind when there is no object"
    )


class RequestItem(BaseModel):
    request_id: UUID
    object_id: UUID
    kind: str = Field(description="rollback | removal")
    requested_on: date
    href: str = Field(description="/identification/v1/requests/{request_id}")


class ProblemItem(BaseModel):
    problem_id: UUID
    type: str = Field(description="A problem type code")
    due_on: date
    days_overdue: int = Field(description="today - due_on (at least 1)")
    href: str = Field(description="/identification/v1/problems/{problem_id}")


class CaseSection(BaseModel):
    total: int
    items: list[CaseItem]


class GapSection(BaseModel):
    total: int
    items: list[GapItem]


class RequestSection(BaseModel):
    total: int
    items: list[RequestItem]


class ProblemSection(BaseModel):
    total: int
    items: list[ProblemItem]


class Totals(BaseModel):
    overdue_cases: int
    due_soon_cases: int
    gaps: int
    pending_requests: int
    overdue_problems: int


class VillageTodo(BaseModel):
    region_code: str
    region_name: str | None = Field(description="Null when the regions are not loaded")
    totals: Totals
    overdue_cases: CaseSection = Field(description="Undecided, past the deadline")
    due_soon_cases: CaseSection = Field(description="Undecided, deadline within the due-soon days")
    gaps: GapSection = Field(description="Assistance gaps today")
    pending_requests: RequestSection = Field(description="Rollback and removal requests pending")
    overdue_problems: ProblemSection = Field(description="Open problems past their due date")


class Todo(BaseModel):
    region: str
    region_name: str | None = Field(description="Null when the regions are not loaded")
    today: date
    limit: int = Field(description="Items listed per village and section, at most")
    totals: Totals = Field(description="Every village's totals summed")
    villages: list[VillageTodo] = Field(description="Villages with something to do, by region code")
