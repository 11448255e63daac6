"""The append-only event log, the consumers' positions, and scheduled job runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, String, text
from sqlmodel import Field, SQLModel

from shared.models.columns import CountyCode, Json


class Event(SQLModel, table=True):
    """One state change. `xid` is the writing transaction's id: consumers read
    only below the oldest running transaction, so a late commit with a lower
    event id is never skipped."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_xid_id", "xid", "id"),
        # Warning events, most of the log, are never looked up by their warning.
        Index(
            "ix_events_aggregate",
            "aggregate_type",
            "aggregate_id",
            postgresql_where=text("aggregate_type <> 'warning'"),
        ),
    )

    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True)
    )
    xid: int = Field(
        sa_column=Column(
            BigInteger, nullable=False, server_default=text("pg_current_xact_id()::text::bigint")
        )
    )
    type: str = Field(max_length=64)
    aggregate_type: str = Field(max_length=40)
    aggregate_id: str = Field(sa_column=Column(String(64, collation="C"), nullable=False))
    actor: str = Field(max_length=64)
    occurred_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
    payload: dict[str, Any] = Field(sa_column=Column(Json, nullable=False))


class ConsumerPosition(SQLModel, table=True):
    """Where a named consumer has read up to: the last (xid, id) it applied."""

    __tablename__ = "consumer_positions"

    name: str = Field(primary_key=True, max_length=64)
    xid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    event_id: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )


class JobRun(SQLModel, table=True):
    """One run of a scheduled job for one due time; its row makes the run happen once."""

    __tablename__ = "job_runs"

    job_name: str = Field(primary_key=True, max_length=64)
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), primary_key=True))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    outcome: dict[str, Any] = Field(sa_column=Column(Json, nullable=False))
