"""Requests upward (SPEC §12): a rollback (风险消除回退) or a removal (清退) of a
monitoring object, asked in writing and approved level by level before the
object changes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, DateTime, Index, String, Text, Uuid, text
from sqlmodel import Field, SQLModel

from shared.models.columns import CountyCode, Json, RegionCode


class ObjectRequest(SQLModel, table=True):
    """One request with its chain: the policy's levels for its kind when it was
    filed, in order, each `{"level", "decision", "decided_on", "document_no",
    "notes", "recorded_by"}` (decision null until that level decides). At most
    one request per object is pending (a partial unique index)."""

    __tablename__ = "object_requests"
    __table_args__ = (
        Index(
            "ux_object_requests_pending_object",
            "county_code",
            "object_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_object_requests_region", "region_code", "requested_on", "request_id"),
        Index("ix_object_requests_object", "county_code", "object_id"),
    )

    request_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    object_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    household_id: str = Field(sa_column=Column(String(40, collation="C"), nullable=False))
    region_code: str = Field(sa_column=Column(RegionCode, nullable=False))
    kind: str = Field(sa_column=Column(String(10), nullable=False))  # rollback | removal
    reason: str = Field(sa_column=Column(Text, nullable=False))
    evidence: str | None = Field(default=None, sa_column=Column(Text))
    requested_on: date = Field(sa_column=Column(Date, nullable=False))
    requested_by: str = Field(max_length=64)
    # pending | approved | rejected
    status: str = Field(sa_column=Column(String(10), nullable=False))
    chain: list[dict[str, Any]] = Field(sa_column=Column(Json, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
