"""The audit log: every write and every reveal of personal data, with its actor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, String, text
from sqlmodel import Field, SQLModel

from shared.models.columns import CountyCode, Json


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_target", "target_type", "target_id"),
        # `GET /identification/v1/audit?target=`: a county's rows about one target, newest first.
        Index("ix_audit_county_target", "county_code", "target_id", "id"),
    )

    county_code: str = Field(sa_column=Column(CountyCode, primary_key=True))
    id: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=False), primary_key=True)
    )
    at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    target_type: str = Field(max_length=40)
    target_id: str = Field(sa_column=Column(String(64, collation="C"), nullable=False))
    request_id: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(Json, nullable=False))
