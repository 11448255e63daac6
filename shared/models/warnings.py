"""Department warnings (部门筛查预警): batches, warnings, and feed pushes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Uuid,
    text,
)
from sqlmodel import Field, SQLModel

from shared.models.columns import CountyCode, Json, RegionCode

_Code = String(40, collation="C")


class Batch(SQLModel, table=True):
    """One push by one department client, with the receipt it was given.

    Keyed by its id, not by county: a batch may hold records from several
    counties (a prefecture's or province's department). Under Citus it is
    distributed by `batch_id`, unrelated to the place-bound tables.
    """

    __tablename__ = "ingest_batches"
    __table_args__ = (
        # The Idempotency-Key of a client, kept as long as its batch.
        Index(
            "ux_ingest_batches_idempotency",
            "client_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        Index("ix_ingest_batches_department", "department", "received_at"),
    )

    batch_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    department: str = Field(sa_column=Column(_Code, nullable=False))
    client_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    idempotency_key: str | None = Field(default=None, max_length=200)
    body_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    atomic: bool = Field(sa_column=Column(Boolean, nullable=False))
    record_count: int = Field(sa_column=Column(Integer, nullable=False))
    accepted: int = Field(sa_column=Column(Integer, nullable=False))
    duplicates: int = Field(sa_column=Column(Integer, nullable=False))
    rejected: int = Field(sa_column=Column(Integer, nullable=False))
    # The receipt's `records` as answered (only the rejected ones past 10,000
    # records); rejections hold field, code and message, never a raw ID number.
    records: list[dict[str, Any]] = Field(sa_column=Column(Json, nullable=False))


class Warning(SQLModel, table=True):
    """One accepted record: this person shows a risk of this type.

    `region_code` is where the warning is handled: the household's village
    once matched, else the region the department gave, else the county
    (`<county>000000`). The ID number is kept as in the registry: a keyed
    hash for matching, a sealed copy for an audited reveal, a masked copy.
    """

    __tablename__ = "warnings"
    __table_args__ = (
        Index("ix_warnings_region", "region_code", "received_at", "warning_id"),
        Index(
            "ix_warnings_unmatched",
            "region_code",
            "received_at",
            "warning_id",
            postgresql_where=text("status = 'unmatched'"),
        ),
        Index(
            "ix_warnings_unmatched_person",
            "id_hash",
            postgresql_where=text("status = 'unmatched'"),
        ),
        # Late records per department (feeds, reporting): few rows, often read.
        Index(
            "ix_warnings_late",
            "department",
            "received_at",
            postgresql_where=text("late"),
        ),
        Index("ix_warnings_case", "case_id", postgresql_where=text("case_id IS NOT NULL")),
        # Civil-affairs aid warnings by household (red flags, 体外循环): few rows.
        Index(
            "ix_warnings_off_system",
            "county_code",
            "household_id",
            "received_on",
            postgresql_where=text(
                "status = 'matched' AND department = 'civil_affairs'"
                " AND warning_type IN ('dibao', 'tekun', 'temporary_assistance')"
            ),
        ),
    )

    # The id first: a warning is addressed by its id alone (URLs, receipts, case
    # events), and time-ordered ids append to the key's right edge. The county
    # stays in the key for distribution (SPEC §10). A household's warnings are
    # found through the village index (`region_code`), not an index of their own.
    warning_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    department: str = Field(sa_column=Column(_Code, nullable=False))
    warning_type: str = Field(sa_column=Column(_Code, nullable=False))
    source_record_id: str = Field(sa_column=Column(String(64, collation="C"), nullable=False))
    batch_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    batch_index: int = Field(sa_column=Column(Integer, nullable=False))
    id_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    id_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    id_masked: str = Field(max_length=18)
    name: str = Field(max_length=50)
    reported_region_code: str | None = Field(
        default=None, sa_column=Column(RegionCode, nullable=True)
    )
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    household_id: str | None = Field(
        default=None, sa_column=Column(String(40, collation="C"), nullable=True)
    )
    event_date: date | None = Field(default=None, sa_column=Column(Date))
    amount_yuan: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2)))
    details: dict[str, Any] | None = Field(default=None, sa_column=Column(Json))
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    received_on: date = Field(sa_column=Column(Date, nullable=False))
    # matched | unmatched | below_threshold | dismissed
    status: str = Field(sa_column=Column(String(20), nullable=False))
    late: bool = Field(sa_column=Column(Boolean, nullable=False))
    name_mismatch: bool = Field(sa_column=Column(Boolean, nullable=False))
    case_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid))
    outcome: str | None = Field(default=None, max_length=20)
    resolution_reason: str | None = Field(default=None, max_length=500)
    resolved_by: str | None = Field(default=None, max_length=64)
    resolved_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class WarningSource(SQLModel, table=True):
    """A department's record id, unique per department (SPEC §3 idempotency).

    Its own table because the key is the department's, not a place's: under
    Citus it is distributed by `department`, and `warnings` by county.
    """

    __tablename__ = "warning_sources"

    department: str = Field(sa_column=Column(_Code, primary_key=True))
    source_record_id: str = Field(sa_column=Column(String(64, collation="C"), primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, nullable=False))
    warning_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    # The batch that stored it: a receipt says `accepted` for its own records
    # and `duplicate` for those an earlier batch stored.
    batch_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))


class FeedPush(SQLModel, table=True):
    """A batch counted as a push of one periodic type (a zero report counts
    for every periodic type of its department)."""

    __tablename__ = "feed_pushes"
    __table_args__ = (
        Index("ix_feed_pushes_latest", "department", "warning_type", "population", "pushed_at"),
    )

    batch_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    warning_type: str = Field(sa_column=Column(_Code, primary_key=True))
    # `all`, or for a type tracked per population (shared/feeds.py) the
    # population whose records the batch held (both for a zero report).
    population: str = Field(
        default="all", sa_column=Column(_Code, primary_key=True, server_default="all")
    )
    department: str = Field(sa_column=Column(_Code, nullable=False))
    pushed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))


class FeedLateNotice(SQLModel, table=True):
    """A missed due time already announced by `feed.late` (once per due time)."""

    __tablename__ = "feed_late_notices"

    department: str = Field(sa_column=Column(_Code, primary_key=True))
    warning_type: str = Field(sa_column=Column(_Code, primary_key=True))
    population: str = Field(
        default="all", sa_column=Column(_Code, primary_key=True, server_default="all")
    )
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    noticed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
