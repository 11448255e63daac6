"""Identification (识别认定): cases on their way to a decision, their steps and
warnings, and the monitoring objects (监测对象) a decision creates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    String,
    Text,
    Uuid,
    text,
)
from sqlmodel import Field, SQLModel

from shared.models.columns import CountyCode, Json, RegionCode

_Code = String(40, collation="C")
_HouseholdId = String(40, collation="C")


class Case(SQLModel, table=True):
    """A risk clue about one household, from the day it was found to its decision.

    At most one case per household is open (a partial unique index). `decided_on`
    is set by the decision (a visit found the household not eligible, the
    township rejected it, or the county decided); a green-channel case may be
    decided before its village review and is `completed` only once every step
    is done. `overdue_at` is when the overdue scan announced it, once.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index(
            "ux_cases_open_household",
            "county_code",
            "household_id",
            unique=True,
            postgresql_where=text("state = 'open'"),
        ),
        # Pending lists, most urgent first: by county and by village.
        Index(
            "ix_cases_open_deadline",
            "county_code",
            "deadline",
            "case_id",
            postgresql_where=text("state = 'open'"),
        ),
        Index("ix_cases_region_deadline", "region_code", "deadline", "case_id"),
        Index("ix_cases_household", "county_code", "household_id"),
    )

    case_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    household_id: str = Field(sa_column=Column(_HouseholdId, nullable=False))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    # department_warning | self_report | cadre_screening
    source: str = Field(sa_column=Column(_Code, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    # Risk types named by a manual clue (a warning's come from its type).
    risk_types: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(String(40)), nullable=False, server_default="{}"),
    )
    opened_on: date = Field(sa_column=Column(Date, nullable=False))
    deadline: date = Field(sa_column=Column(Date, nullable=False))
    state: str = Field(sa_column=Column(String(10), nullable=False))  # open | decided
    completed: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="false")
    )
    steps_done: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(String(20)), nullable=False, server_default="{}"),
    )
    green_channel: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="false")
    )
    green_channel_reason: str | None = Field(default=None, sa_column=Column(Text))
    outcome: str | None = Field(default=None, max_length=20)
    monitoring_type: str | None = Field(default=None, max_length=30)
    decision_risk_types: list[str] | None = Field(default=None, sa_column=Column(ARRAY(String(40))))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    decided_on: date | None = Field(default=None, sa_column=Column(Date))
    overdue_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    opened_by: str = Field(max_length=64)
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )


class CaseStep(SQLModel, table=True):
    """One completed step of a case, with who recorded it and its form."""

    __tablename__ = "case_steps"

    case_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    # household_visit | village_review | township_review | county_approval
    step: str = Field(sa_column=Column(String(20), primary_key=True))
    done_on: date = Field(sa_column=Column(Date, nullable=False))
    actor: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    form: dict[str, Any] = Field(sa_column=Column(Json, nullable=False))


class CaseWarning(SQLModel, table=True):
    """A warning attached to a case (written with the case, in its transaction)."""

    __tablename__ = "case_warnings"
    __table_args__ = (Index("ix_case_warnings_case", "case_id"),)

    warning_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    case_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    warning_type: str = Field(sa_column=Column(_Code, nullable=False))


class MonitoringObject(SQLModel, table=True):
    """监测对象: a household included by a county decision, until its risk is
    eliminated or it is removed (清退). At most one object per household is
    `risk_not_eliminated` at a time; earlier ones stay as history."""

    __tablename__ = "monitoring_objects"
    __table_args__ = (
        Index(
            "ux_monitoring_objects_active_household",
            "county_code",
            "household_id",
            unique=True,
            postgresql_where=text("status = 'risk_not_eliminated'"),
        ),
        Index("ix_monitoring_objects_region", "region_code", "object_id"),
        Index("ix_monitoring_objects_household", "county_code", "household_id"),
    )

    object_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    household_id: str = Field(sa_column=Column(_HouseholdId, nullable=False))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    monitoring_type: str = Field(max_length=30)
    risk_types: list[str] = Field(sa_column=Column(ARRAY(String(40)), nullable=False))
    # risk_not_eliminated | risk_eliminated | removed
    status: str = Field(sa_column=Column(String(24), nullable=False))
    included_on: date = Field(sa_column=Column(Date, nullable=False))
    case_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    eliminated_on: date | None = Field(default=None, sa_column=Column(Date))
    removed_on: date | None = Field(default=None, sa_column=Column(Date))
    removal_reason: str | None = Field(default=None, sa_column=Column(Text))
    removal_approved_by: str | None = Field(default=None, max_length=100)
    # 风险消除回退: the latest return from `risk_eliminated`, with its reason.
    rolled_back_on: date | None = Field(default=None, sa_column=Column(Date))
    rollback_reason: str | None = Field(default=None, sa_column=Column(Text))
    # 自然消除: eliminated without assistance (the measure criterion waived), with why.
    eliminated_naturally: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="false")
    )
    elimination_reason: str | None = Field(default=None, sa_column=Column(Text))
    whole_household_no_labour: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="false")
    )
    development_assistance: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="false")
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
