"""The red flags' summaries (services/reporting/red_flags/summary.py keeps them)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, String
from sqlmodel import Field, SQLModel

from shared.models.columns import CountyCode, RegionCode


class RedFlagHousehold(SQLModel, table=True):
    """What the red flags count of one household, kept only for a household
    with something to count: the persons of a household monitored at risk,
    the days `[off_system_from, off_system_until)` it is off-system (体外循环;
    an empty range when never), and whether it should be included (应纳未纳)."""

    __tablename__ = "red_flag_households"
    __table_args__ = (Index("ix_red_flag_households_region", "region_code"),)

    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    household_id: str = Field(sa_column=Column(String(40, collation="C"), primary_key=True))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    persons_at_risk: int = Field(sa_column=Column(Integer, nullable=False))
    off_system_from: date = Field(sa_column=Column(Date, nullable=False))
    off_system_until: date = Field(sa_column=Column(Date, nullable=False))
    should_include: bool = Field(sa_column=Column(Boolean, nullable=False))


class RedFlagSummary(SQLModel, table=True):
    """`red_flag_households` counted per village and attributes."""

    __tablename__ = "summary_red_flags"
    __table_args__ = (Index("ix_summary_red_flags_region", "region_code"),)

    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    region_code: str = Field(sa_column=Column(RegionCode, primary_key=True))
    off_system_from: date = Field(sa_column=Column(Date, primary_key=True))
    off_system_until: date = Field(sa_column=Column(Date, primary_key=True))
    should_include: bool = Field(sa_column=Column(Boolean, primary_key=True))
    households: int = Field(sa_column=Column(BigInteger, nullable=False))
    persons_at_risk: int = Field(sa_column=Column(BigInteger, nullable=False))


class RedFlagVillage(SQLModel, table=True):
    """Registered households and poverty-alleviated households per village."""

    __tablename__ = "summary_red_flag_villages"
    __table_args__ = (Index("ix_summary_red_flag_villages_region", "region_code"),)

    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    region_code: str = Field(sa_column=Column(RegionCode, primary_key=True))
    households: int = Field(sa_column=Column(BigInteger, nullable=False))
    poverty_alleviated: int = Field(sa_column=Column(BigInteger, nullable=False))
