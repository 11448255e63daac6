"""Response shapes of assistance gaps (API.md, `GET /assistance/v1/gaps`)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

GapKind = Literal[
    "no_development_measure",
    "no_insurance_subsidy",
    "no_measure_30d",
    "visit_overdue",
    "look_back_due",
]


class GapOut(BaseModel):
    object_id: UUID | None = Field(
        description="Null for a poverty-alleviated household without an object at risk"
    )
    household_id: str
    region_code: str
    kind: GapKind = Field(description="`look_back_due` is for eliminated objects (回头看)")
    since: date = Field(description="The day the gap opened")


class GapList(BaseModel):
    items: list[GapOut]
    next_cursor: str | None = Field(
        description="Where the next page starts (`?cursor=`); null on the last page"
    )
