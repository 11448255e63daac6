"""Request and response shapes of cross-screening and spot-check samples
(交叉排查, 暗访抽查; API.md "Screening campaigns")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

SEED_MAX = 2**63 - 1  # the column is a bigint
MAX_RESULTS = 5000
SpotCheckKind = Literal["cross", "spot"]


class SpotCheckIn(BaseModel):
    kind: SpotCheckKind = Field(description="cross (交叉排查) | spot (暗访抽查)")
    seed: int | None = Field(
        default=None,
        ge=0,
        le=SEED_MAX,
        description="Draws the same sample again over the same registry and ledger;"
        " default a new random seed, stored with the sample",
    )


class SpotCheckResultsIn(BaseModel):
    records: list[Any] = Field(
        min_length=1,
        max_length=MAX_RESULTS,
        description="Checkers' records of the screening shape, one per sampled household",
    )


class SampledVillageOut(BaseModel):
    region_code: str
    region_name: str | None
    households: int = Field(description="Households of the village drawn into the sample")


class SampledHouseholdOut(BaseModel):
    household_id: str
    region_code: str
    checked: bool
    checked_at: datetime | None = None


class DifferenceOut(BaseModel):
    household_id: str
    field: str = Field(description="A finding field, or `screening` for a household not screened")
    village_value: Any = Field(description="The village's record (`not_screened` if none)")
    checker_value: Any


class DifferenceCountsOut(BaseModel):
    total: int
    households_with_differences: int
    by_field: dict[str, int]


class SpotCheckOut(BaseModel):
    spot_check_id: UUID
    campaign_id: UUID
    kind: SpotCheckKind
    seed: int
    created_at: datetime | None = None
    villages: list[SampledVillageOut]
    households: list[SampledHouseholdOut]
    differences: list[DifferenceOut]
    difference_counts: DifferenceCountsOut


class SpotCheckSummaryOut(BaseModel):
    spot_check_id: UUID
    campaign_id: UUID
    kind: SpotCheckKind
    seed: int
    created_at: datetime | None = None
    households: int = Field(description="Sampled households inside your scope")
    checked: int = Field(description="Of those, the ones with a checker's record")


class SpotCheckList(BaseModel):
    items: list[SpotCheckSummaryOut]
