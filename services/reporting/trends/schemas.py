"""Response shape of `GET /trend` (API.md, reporting)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from services.reporting.overview.schemas import Figures, PeriodOut


class TrendItem(Figures):
    week_start: date = Field(description="The Monday (local date) of the snapshot's week")
    period: PeriodOut = Field(description="The period figures' period: the year to that day")


class Trend(BaseModel):
    items: list[TrendItem] = Field(description="Oldest first")
