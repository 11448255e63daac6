"""Response shape of the household view (API.md, identification)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.identification.cases.schemas import CaseOut
from services.identification.objects.schemas import MonitoringObjectOut

HouseholdCategory = Literal["general", "poverty_alleviated"]


class MemberOut(BaseModel):
    id_number: str = Field(description="Masked (610326********123X) unless revealed")
    name: str
    relation: str
    labour_capacity: str
    disability_grade: int | None
    in_school: bool
    age: int = Field(description="Full years of age today")
    birth_date: date | None = Field(
        default=None,
        description="Only when revealed: the masked digits of an ID number are the birth date",
    )
    sex: str | None = None


class HouseholdWarningOut(BaseModel):
    warning_id: UUID
    warning_type: str
    department: str
    status: Literal["matched", "unmatched", "below_threshold", "dismissed"]
    id_number: str = Field(description="Always masked")
    event_date: date | None
    received_at: datetime
    late: bool
    case_id: UUID | None


class HouseholdOut(BaseModel):
    household_id: str
    region_code: str
    category: HouseholdCategory
    head_name: str
    revealed: bool = Field(description="Whether members' ID numbers are shown in full")
    members: list[MemberOut]
    monitoring_object: MonitoringObjectOut | None = Field(
        description="The object in force: the one whose risk is not eliminated, else the"
        " latest not removed; null when there is none"
    )
    monitoring_objects: list[MonitoringObjectOut] = Field(
        description="Every object of the household, removed ones included, newest first"
    )
    cases: list[CaseOut] = Field(description="Newest first")
    warnings: list[HouseholdWarningOut] = Field(description="Newest first")
