"""Request and response shapes of assessments, flags, risk elimination and
rollback of monitoring objects (API.md, assistance)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, computed_field

from shared.dates import Day
from shared.money import Yuan
from shared.text import FreeText

AssessmentKind = Literal["routine", "look_back"]
ObjectStatus = Literal["risk_not_eliminated", "risk_eliminated", "removed"]


class AssessmentIn(BaseModel):
    assessed_on: Day = Field(description="Not in the future, not before the inclusion")
    kind: AssessmentKind = Field(description="routine (入户走访) | look_back (回头看)")
    income_per_capita_yuan: Yuan
    rigid_expenditure_yuan: Annotated[Yuan, Field(ge=0)]
    housing_secure: bool
    education_secure: bool
    medical_secure: bool
    drinking_water_secure: bool
    notes: FreeText | None = Field(default=None, max_length=2000)


class AssessmentOut(BaseModel):
    assessment_id: UUID
    object_id: UUID
    household_id: str
    assessed_on: date
    kind: AssessmentKind
    income_per_capita_yuan: Yuan
    rigid_expenditure_yuan: Yuan
    housing_secure: bool
    education_secure: bool
    medical_secure: bool
    drinking_water_secure: bool
    notes: str | None
    recorded_at: datetime
    monitoring_line_yuan: Yuan = Field(description="The line of the assessment's year")
    above_line: bool = Field(description="Income per capita above that line")


class AssessmentPage(BaseModel):
    items: list[AssessmentOut]
    next_cursor: str | None


class FlagsIn(BaseModel):
    whole_household_no_labour: bool = Field(
        description="整户无劳动能力: stays monitored under the safety net, never eliminated"
    )


class EliminationIn(BaseModel):
    decided_on: Day = Field(description="The county's decision; not in the future")
    natural: bool = Field(
        default=False,
        description="自然消除: the risk ended without assistance; waives the measure criterion",
    )
    reason: FreeText | None = Field(
        default=None, max_length=2000, description="Why, for a natural elimination (required)"
    )


class EliminationOut(BaseModel):
    decided_on: date
    natural: bool = Field(description="自然消除: eliminated without assistance")
    reason: str | None = Field(description="The natural elimination's reason")


class RollbackIn(BaseModel):
    reason: FreeText = Field(min_length=1, max_length=2000, description="Why the risk returned")


class ObjectOut(BaseModel):
    object_id: UUID
    household_id: str
    region_code: str
    monitoring_type: str
    risk_types: list[str]
    status: ObjectStatus
    included_on: date
    eliminated_on: date | None
    whole_household_no_labour: bool
    development_assistance: bool
    rolled_back_on: date | None
    rollback_reason: str | None
    eliminated_naturally: bool = Field(default=False, exclude=True)
    elimination_reason: str | None = Field(default=None, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def elimination(self) -> EliminationOut | None:
        """The elimination in force, null unless the object is eliminated."""
        if self.eliminated_on is None:
            return None
        return EliminationOut(
            decided_on=self.eliminated_on,
            natural=self.eliminated_naturally,
            reason=self.elimination_reason,
        )
