"""Request bodies of the four case steps and the green channel (API.md,
identification). Codes (monitoring and risk types) are checked against the
catalog by the service, so that a wrong one is 422 `invalid_code`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from shared.dates import Day
from shared.money import Yuan
from shared.text import FreeText

Notes = Annotated[FreeText | None, Field(default=None, max_length=2000)]


class HouseholdVisitIn(BaseModel):
    """入户核查: what the visit found, and whether the household is eligible."""

    visited_on: Day
    income_per_capita_yuan: Yuan
    rigid_expenditure_yuan: Annotated[Yuan, Field(ge=0)]
    housing_secure: bool
    education_secure: bool
    medical_secure: bool
    drinking_water_secure: bool
    authorisation_signed: bool = Field(
        description="The household's written authorisation (农户授权)"
    )
    eligible: bool = Field(description="false ends the case as not_eligible")
    notes: Notes = None


class VillageReviewIn(BaseModel):
    """村级民主评议和公示: the review and its public notice (both ends counted)."""

    reviewed_on: Day
    notice_start: Day
    notice_end: Day
    objections: bool
    notes: Notes = None


class TownshipReviewIn(BaseModel):
    """乡镇审核: approve, or reject (the case ends as not_included, notes as reason)."""

    reviewed_on: Day
    approved: bool
    notes: Notes = None


class CountyApprovalIn(BaseModel):
    """县级比对审定: the data comparison (or its waiver) and the decision."""

    approved_on: Day
    comparison_waived: bool = Field(
        description="Only when the village review's notice raised no objection"
    )
    outcome: Literal["included", "not_included", "risk_updated"]
    monitoring_type: str | None = Field(
        default=None, description="Required for included; must fit the household's category"
    )
    risk_types: list[str] | None = Field(
        default=None, description="Risk type codes; required for included and risk_updated"
    )
    reason: FreeText | None = Field(
        default=None, max_length=2000, description="Required for not_included"
    )


class GreenChannelIn(BaseModel):
    """绿色通道 for a sudden risk."""

    reason: FreeText = Field(min_length=1, max_length=2000)
