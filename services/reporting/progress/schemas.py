"""Response shape of `GET /progress_table` as JSON (API.md, reporting)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from services.reporting.overview.schemas import PeriodOut
from shared.regions import Level


class ColumnOut(BaseModel):
    code: str
    label: str = Field(description="The Chinese header (CSV and XLSX use it)")


class ProgressTable(BaseModel):
    campaign_id: uuid.UUID | None = Field(
        description="The campaign; null when none covers the region (screening columns 0)"
    )
    campaign_name: str | None
    year: int
    region: str = Field(description="The table's region: the campaign's, narrowed to yours")
    region_name: str | None
    level: Level = Field(description="The table's region's level")
    period: PeriodOut = Field(
        description="The campaign window: starts_on to the earlier of today and the last due_on"
    )
    columns: list[ColumnOut] = Field(description="Every column of a row, in order")
    rows: list[dict[str, int | float | str | None]] = Field(
        description="Towns each followed by their villages, in code order, then the "
        "`total` row; keys are the column codes"
    )
