"""Reporting (统计): the weekly snapshots (周通报) that trend lines read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, DateTime, text
from sqlmodel import Field, SQLModel

from shared.models.columns import CountyCode, Json, RegionCode


class WeeklySnapshot(SQLModel, table=True):
    """The overview's figures for one region as they stood at the start of a
    week (Monday, local time). `county_code` is the region code's first six
    digits (a province's or city's own code above county level)."""

    __tablename__ = "weekly_snapshots"

    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    region_code: str = Field(sa_column=Column(RegionCode, primary_key=True))
    week_start: date = Field(sa_column=Column(Date, primary_key=True))
    figures: dict[str, Any] = Field(sa_column=Column(Json, nullable=False))
    taken_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
