"""Screening campaigns (集中排查, SPEC §11): the campaign and its phases, one
screening record per household, the cross-screening and spot-check samples
with their checkers' findings, and the problem ledger (问题台账)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Uuid,
    text,
)
from sqlmodel import Field, SQLModel

from shared.models.columns import CountyCode, Json, RegionCode

_Code = String(40, collation="C")
_HouseholdId = String(40, collation="C")


def _now_column() -> Any:
    return Column(DateTime(timezone=True), nullable=False, server_default=text("now()"))


class Campaign(SQLModel, table=True):
    """One screening campaign of a region (usually a county) in a year.

    `county_code` is the region code's first six digits. `phases` is a list of
    `{"name", "kind"?, "due_on", "done_on"?}` in the plan's order; `kind` is a
    code of `CAMPAIGN_PHASE_KINDS` when the phase is one warnex can check.
    """

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_region", "region_code", "year"),)

    campaign_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    year: int = Field(sa_column=Column(SmallInteger, nullable=False))
    # The campaign's figures (the progress table) count from this day (default
    # 1 January of the year) to its last phase's due date.
    starts_on: date = Field(sa_column=Column(Date, nullable=False))
    phases: list[dict[str, Any]] = Field(sa_column=Column(Json, nullable=False))
    # Figures the progress table asks for that warnex cannot count itself
    # (data items corrected, staff trained), entered by county staff.
    reported_figures: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(Json, nullable=False, server_default=text("'{}'::jsonb")),
    )
    created_by: str = Field(max_length=64)
    created_at: datetime | None = Field(default=None, sa_column=_now_column())


class Screening(SQLModel, table=True):
    """A household's screening record (入户排查) in one campaign, the village
    form's fields as codes of `SCREENING_FIELDS`. A later record for the same
    household replaces it (`replaced` counts how often)."""

    __tablename__ = "screenings"
    __table_args__ = (Index("ix_screenings_campaign_region", "campaign_id", "region_code"),)

    campaign_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    household_id: str = Field(sa_column=Column(_HouseholdId, primary_key=True))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    screened_on: date = Field(sa_column=Column(Date, nullable=False))
    screener: str = Field(sa_column=Column(Text, nullable=False))
    residence: str = Field(sa_column=Column(_Code, nullable=False))
    housing: str = Field(sa_column=Column(_Code, nullable=False))
    schooling: str = Field(sa_column=Column(_Code, nullable=False))
    drinking_water: str = Field(sa_column=Column(_Code, nullable=False))
    insured: str = Field(sa_column=Column(_Code, nullable=False))
    uninsured_members: int = Field(sa_column=Column(SmallInteger, nullable=False))
    income_band: str = Field(sa_column=Column(_Code, nullable=False))
    rigid_expenditure: bool = Field(sa_column=Column(Boolean, nullable=False))
    rigid_expenditure_reason: str | None = Field(default=None, sa_column=Column(Text))
    civil_affairs_support: str = Field(sa_column=Column(_Code, nullable=False))
    needs_inclusion: str = Field(sa_column=Column(_Code, nullable=False))
    notes: str | None = Field(default=None, sa_column=Column(Text))
    # The case a "yes" or "unsure" opened or joined.
    case_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    replaced: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    recorded_by: str = Field(max_length=64)
    recorded_at: datetime | None = Field(default=None, sa_column=_now_column())


class SpotCheck(SQLModel, table=True):
    """A cross-screening (交叉排查) or spot-check (暗访抽查) sample of a campaign,
    drawn reproducibly from `seed`."""

    __tablename__ = "spot_checks"
    __table_args__ = (Index("ix_spot_checks_campaign", "campaign_id"),)

    spot_check_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    campaign_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    kind: str = Field(sa_column=Column(String(10), nullable=False))  # cross | spot
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime | None = Field(default=None, sa_column=_now_column())


class SpotCheckHousehold(SQLModel, table=True):
    """A household drawn into a sample, and the checker's own record of it
    (the screening shape) once checked."""

    __tablename__ = "spot_check_households"

    spot_check_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    household_id: str = Field(sa_column=Column(_HouseholdId, primary_key=True))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    checker_record: dict[str, Any] | None = Field(default=None, sa_column=Column(Json))
    checked_by: str | None = Field(default=None, max_length=64)
    checked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class Problem(SQLModel, table=True):
    """One entry of the problem ledger (问题台账): found, due for rectification
    by `due_on`, and rectified with the date and what was done.
    `overdue_at` is when the gap scan announced it past due, once."""

    __tablename__ = "problems"
    __table_args__ = (
        Index("ix_problems_region", "region_code", "found_on", "problem_id"),
        Index("ix_problems_campaign", "campaign_id"),
        Index(
            "ix_problems_open_due",
            "county_code",
            "due_on",
            postgresql_where=text("status = 'open'"),
        ),
    )

    problem_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    campaign_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    household_id: str | None = Field(default=None, sa_column=Column(_HouseholdId))
    type: str = Field(sa_column=Column(_Code, nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    found_on: date = Field(sa_column=Column(Date, nullable=False))
    due_on: date = Field(sa_column=Column(Date, nullable=False))
    responsible: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(sa_column=Column(String(10), nullable=False))  # open | rectified
    rectified_on: date | None = Field(default=None, sa_column=Column(Date))
    action: str | None = Field(default=None, sa_column=Column(Text))
    overdue_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_by: str = Field(max_length=64)
    created_at: datetime | None = Field(default=None, sa_column=_now_column())
