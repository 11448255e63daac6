"""Reporting (统计): the weekly snapshots (周通报) that trend lines read."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Index, Integer, String, text
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


# -- Summaries (services/reporting/summaries.py) -------------------------------
# Counts of the figure tables' rows, kept current by the `reporting.summaries`
# consumer, so that a province's figures add up thousands of rows rather than
# millions. Each table holds a grain per region level: `village` rows under the
# row's own region code, `town`, `county`, `city` and `province` rows under the
# code of the region of that level holding it; a region's figures add up its
# own grain's rows. Every row stays keyed by its county, which is how the
# tables are distributed. Dated counts come per `day` and per `month` (day =
# the 1st). The read indexes carry every column a figure reads, so the figures
# are read from the index alone.

_Grain = String(8, collation="C")
_Code = String(40, collation="C")


def _key(type_: Any) -> Column[Any]:
    return Column(type_, primary_key=True)


def _read_index(table: str, *dimensions: str, dated: bool = False) -> Index:
    """The index the figures read a table by: a grain's rows of some regions (and,
    for dated tables, a bucket's days in a range), covering what they sum."""
    keys = ("grain", "bucket", "region_code", "day") if dated else ("grain", "region_code")
    return Index(f"ix_{table}_read", *keys, postgresql_include=["county_code", *dimensions, "n"])


class WarningSummary(SQLModel, table=True):
    """Warnings by `received_on`, type, status and the late flag."""

    __tablename__ = "summary_warnings"
    __table_args__ = (
        _read_index("summary_warnings", "warning_type", "status", "late", dated=True),
    )

    county_code: str = Field(sa_column=_key(CountyCode))
    day: date = Field(sa_column=_key(Date))
    grain: str = Field(sa_column=_key(_Grain))
    bucket: str = Field(sa_column=_key(_Grain))  # day | month | year
    region_code: str = Field(sa_column=_key(RegionCode))
    warning_type: str = Field(sa_column=_key(_Code))
    status: str = Field(sa_column=_key(_Code))
    late: bool = Field(sa_column=_key(Boolean))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))


class CaseSummary(SQLModel, table=True):
    """Cases opened (by `opened_on`) and decided (by `decided_on`, with the days
    it took and whether it was within the deadline)."""

    __tablename__ = "summary_cases"
    __table_args__ = (
        _read_index("summary_cases", "event", "days_to_decision", "within_deadline", dated=True),
    )

    county_code: str = Field(sa_column=_key(CountyCode))
    day: date = Field(sa_column=_key(Date))
    grain: str = Field(sa_column=_key(_Grain))
    bucket: str = Field(sa_column=_key(_Grain))
    region_code: str = Field(sa_column=_key(RegionCode))
    event: str = Field(sa_column=_key(_Grain))  # opened | decided
    days_to_decision: int = Field(sa_column=_key(Integer))  # 0 for opened
    within_deadline: bool = Field(sa_column=_key(Boolean))  # false for opened
    n: int = Field(sa_column=Column(BigInteger, nullable=False))


class OpenCaseSummary(SQLModel, table=True):
    """Undecided cases by deadline (overdue and due soon are read against today)."""

    __tablename__ = "summary_open_cases"
    __table_args__ = (_read_index("summary_open_cases", "deadline"),)

    county_code: str = Field(sa_column=_key(CountyCode))
    grain: str = Field(sa_column=_key(_Grain))
    region_code: str = Field(sa_column=_key(RegionCode))
    deadline: date = Field(sa_column=_key(Date))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))


class ObjectSummary(SQLModel, table=True):
    """Monitoring objects by type and status, and whether each is labour-capable
    at risk and has a development measure (the coverage rate's parts); `persons`
    adds up the members of their households."""

    __tablename__ = "summary_objects"
    __table_args__ = (
        _read_index(
            "summary_objects", "monitoring_type", "status", "labour_capable", "developed", "persons"
        ),
    )

    county_code: str = Field(sa_column=_key(CountyCode))
    grain: str = Field(sa_column=_key(_Grain))
    region_code: str = Field(sa_column=_key(RegionCode))
    monitoring_type: str = Field(sa_column=_key(_Code))
    status: str = Field(sa_column=_key(_Code))
    labour_capable: bool = Field(sa_column=_key(Boolean))
    developed: bool = Field(sa_column=_key(Boolean))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))
    persons: int = Field(sa_column=Column(BigInteger, nullable=False))


class ObjectEventSummary(SQLModel, table=True):
    """Dated events of monitoring objects: `included`, `included_epidemic`,
    `eliminated_naturally`, `rolled_back`, `removed` and `look_back` (one per
    look-back assessment); `persons` adds up the members of their households."""

    __tablename__ = "summary_object_events"
    __table_args__ = (
        _read_index("summary_object_events", "event", "monitoring_type", "persons", dated=True),
    )

    county_code: str = Field(sa_column=_key(CountyCode))
    day: date = Field(sa_column=_key(Date))
    grain: str = Field(sa_column=_key(_Grain))
    bucket: str = Field(sa_column=_key(_Grain))
    region_code: str = Field(sa_column=_key(RegionCode))
    event: str = Field(sa_column=_key(_Code))
    monitoring_type: str = Field(sa_column=_key(_Code))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))
    persons: int = Field(sa_column=Column(BigInteger, nullable=False))


class ObjectRiskSummary(SQLModel, table=True):
    """Monitoring objects at risk (`risk_not_eliminated`) per risk type: an
    object with two risk types counts under both."""

    __tablename__ = "summary_object_risks"
    __table_args__ = (_read_index("summary_object_risks", "risk_type"),)

    county_code: str = Field(sa_column=_key(CountyCode))
    grain: str = Field(sa_column=_key(_Grain))
    region_code: str = Field(sa_column=_key(RegionCode))
    risk_type: str = Field(sa_column=_key(_Code))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))


class MeasureSummary(SQLModel, table=True):
    """Measures by category and status."""

    __tablename__ = "summary_measures"
    __table_args__ = (_read_index("summary_measures", "category", "status"),)

    county_code: str = Field(sa_column=_key(CountyCode))
    grain: str = Field(sa_column=_key(_Grain))
    region_code: str = Field(sa_column=_key(RegionCode))
    category: str = Field(sa_column=_key(_Code))
    status: str = Field(sa_column=_key(_Code))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))


class PersonSummary(SQLModel, table=True):
    """Registered persons (members) by the village their household is filed at:
    the denominator of the red flags' ratio of objects at risk to persons."""

    __tablename__ = "summary_persons"

    county_code: str = Field(sa_column=_key(CountyCode))
    region_code: str = Field(sa_column=_key(RegionCode))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))
