"""Assistance (帮扶): measures for monitoring objects, assessments (routine
visits and look-backs 回头看), monthly household visits (每月走访), and the gaps
already announced."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    text,
)
from sqlmodel import Field, SQLModel

from shared.models.columns import CountyCode, RegionCode

_Code = String(40, collation="C")


class Measure(SQLModel, table=True):
    """One assistance measure for a monitoring object, or for a green-channel
    case's household before its decision (then `object_id` is null until the
    decision includes it)."""

    __tablename__ = "measures"
    __table_args__ = (
        Index("ix_measures_object", "county_code", "object_id"),
        Index("ix_measures_household", "county_code", "household_id"),
        Index("ix_measures_region", "region_code", "planned_on", "measure_id"),
    )

    measure_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    object_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    case_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    household_id: str = Field(sa_column=Column(String(40, collation="C"), nullable=False))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    category: str = Field(sa_column=Column(_Code, nullable=False))
    development: bool = Field(sa_column=Column(Boolean, nullable=False))
    responsible_department: str = Field(sa_column=Column(_Code, nullable=False))
    # planned | in_progress | completed | cancelled (forward only)
    status: str = Field(sa_column=Column(String(12), nullable=False))
    planned_on: date = Field(sa_column=Column(Date, nullable=False))
    started_on: date | None = Field(default=None, sa_column=Column(Date))
    completed_on: date | None = Field(default=None, sa_column=Column(Date))
    amount_yuan: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2)))
    description: str | None = Field(default=None, sa_column=Column(Text))
    created_by: str = Field(max_length=64)
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )


class Assessment(SQLModel, table=True):
    """A routine visit or a look-back (回头看) of a monitoring object."""

    __tablename__ = "assessments"
    __table_args__ = (
        Index("ix_assessments_object", "county_code", "object_id", "assessed_on"),
        # A household's latest visit counts its assessments too (the visit_overdue gap).
        Index("ix_assessments_household", "county_code", "household_id", "assessed_on"),
    )

    assessment_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    object_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    household_id: str = Field(sa_column=Column(String(40, collation="C"), nullable=False))
    assessed_on: date = Field(sa_column=Column(Date, nullable=False))
    kind: str = Field(sa_column=Column(String(12), nullable=False))  # routine | look_back
    income_per_capita_yuan: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    rigid_expenditure_yuan: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    housing_secure: bool = Field(sa_column=Column(Boolean, nullable=False))
    education_secure: bool = Field(sa_column=Column(Boolean, nullable=False))
    medical_secure: bool = Field(sa_column=Column(Boolean, nullable=False))
    drinking_water_secure: bool = Field(sa_column=Column(Boolean, nullable=False))
    notes: str | None = Field(default=None, sa_column=Column(Text))
    actor: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class GapNotice(SQLModel, table=True):
    """A gap the gap scan has announced (`assistance.gap_opened`), once per
    object, kind and start; a gap that closes and opens again is new."""

    __tablename__ = "gap_notices"

    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    object_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    kind: str = Field(sa_column=Column(String(30), primary_key=True))
    since: date = Field(sa_column=Column(Date, primary_key=True))
    noticed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class HouseholdVisit(SQLModel, table=True):
    """每月走访: a grid worker's monthly visit to a poverty-alleviated or monitored
    household, with what it found (income, labour, employment, changes in the
    household) and whether it found a new risk. `object_id` is the household's
    monitoring object at risk on the visit's recording, if any."""

    __tablename__ = "household_visits"
    __table_args__ = (
        Index("ix_household_visits_household", "county_code", "household_id", "visited_on"),
    )

    visit_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    household_id: str = Field(sa_column=Column(String(40, collation="C"), nullable=False))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    object_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    visited_on: date = Field(sa_column=Column(Date, nullable=False))
    income_per_capita_yuan: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2)))
    labour_capable_members: int | None = Field(default=None, sa_column=Column(Integer))
    employed_members: int | None = Field(default=None, sa_column=Column(Integer))
    member_changes: str | None = Field(default=None, sa_column=Column(Text))
    new_risk: bool = Field(sa_column=Column(Boolean, nullable=False))
    notes: str | None = Field(default=None, sa_column=Column(Text))
    actor: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class HouseholdGapNotice(SQLModel, table=True):
    """A gap of a household without a monitoring object at risk (a
    poverty-alleviated household's `visit_overdue`) the gap scan has announced,
    once per household, kind and start."""

    __tablename__ = "household_gap_notices"

    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    household_id: str = Field(sa_column=Column(String(40, collation="C"), primary_key=True))
    kind: str = Field(sa_column=Column(String(30), primary_key=True))
    since: date = Field(sa_column=Column(Date, primary_key=True))
    noticed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
