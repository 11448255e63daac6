"""Request and response shapes of monitoring objects (API.md, identification)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, computed_field

from shared.text import FreeText

ObjectStatus = Literal["risk_not_eliminated", "risk_eliminated", "removed"]


class Elimination(BaseModel):
    decided_on: date
    natural: bool = Field(description="自然消除: eliminated without assistance")
    reason: str | None = Field(description="The natural elimination's reason")


class MonitoringObjectOut(BaseModel):
    object_id: UUID
    household_id: str
    region_code: str
    monitoring_type: str = Field(description="unstable_alleviated | marginal | sudden_hardship")
    risk_types: list[str]
    status: ObjectStatus
    included_on: date = Field(description="The county approval's approved_on")
    eliminated_on: date | None
    whole_household_no_labour: bool
    development_assistance: bool
    case_id: UUID = Field(description="The case whose decision included the household")
    removed_on: date | None = None
    removal_reason: str | None = None
    removal_approved_by: str | None = None
    eliminated_naturally: bool = Field(default=False, exclude=True)
    elimination_reason: str | None = Field(default=None, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def elimination(self) -> Elimination | None:
        """The elimination in force, null unless the object is eliminated."""
        if self.eliminated_on is None:
            return None
        return Elimination(
            decided_on=self.eliminated_on,
            natural=self.eliminated_naturally,
            reason=self.elimination_reason,
        )


class MonitoringObjectPage(BaseModel):
    items: list[MonitoringObjectOut]
    next_cursor: str | None


class RemovalIn(BaseModel):
    reason: FreeText = Field(min_length=1, max_length=2000, description="Why the object is removed")
    approved_by: FreeText = Field(
        min_length=1, max_length=100, description="Who approved the removal"
    )
