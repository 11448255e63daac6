"""The registry: regions (行政区划), households (农户) and their members."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    Column,
    Date,
    DateTime,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlmodel import Field, SQLModel

from shared.models.columns import CountyCode, RegionCode


class Region(SQLModel, table=True):
    """A statistical division; a small catalog, a reference table under Citus."""

    __tablename__ = "regions"
    __table_args__ = (Index("ix_regions_parent", "parent_code"),)

    code: str = Field(sa_column=Column(RegionCode, primary_key=True))
    name: str = Field(max_length=100)
    level: str = Field(max_length=10)
    parent_code: str | None = Field(default=None, sa_column=Column(RegionCode, nullable=True))
    # Key-area attributes (REGION_ATTRIBUTES in shared/catalog.py), SPEC §12.
    attributes: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'")),
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class Household(SQLModel, table=True):
    """户: a county-unique household in one village."""

    __tablename__ = "households"
    __table_args__ = (Index("ix_households_region", "region_code", "household_id"),)

    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    household_id: str = Field(sa_column=Column(String(40, collation="C"), primary_key=True))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    category: str = Field(max_length=24)  # general | poverty_alleviated
    head_name: str = Field(max_length=50)
    # The day warnex first registered the household: where the monthly-visit
    # clock of a poverty-alleviated household never visited starts.
    registered_on: date | None = Field(
        default=None,
        sa_column=Column(Date, nullable=False, server_default=func.current_date()),
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class Member(SQLModel, table=True):
    """A person in a household. The ID number is held only as a keyed hash
    (for matching) and an AES-GCM ciphertext (for an audited reveal)."""

    __tablename__ = "members"
    __table_args__ = (
        Index("ix_members_household", "county_code", "household_id"),
        Index("ix_members_id_hash", "id_hash"),
    )

    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    id_hash: bytes = Field(sa_column=Column(LargeBinary, primary_key=True))
    household_id: str = Field(sa_column=Column(String(40, collation="C"), nullable=False))
    id_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    id_masked: str = Field(max_length=18)
    name: str = Field(max_length=50)
    relation: str = Field(max_length=16)
    labour_capacity: str = Field(max_length=8)
    disability_grade: int | None = Field(default=None, sa_column=Column(SmallInteger))
    in_school: bool = False
    birth_date: date
    sex: str = Field(max_length=6)
