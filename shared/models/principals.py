"""Who may call: department clients and staff users, by bearer token."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary, func
from sqlmodel import Field, SQLModel

from shared.models.columns import RegionCode


class Principal(SQLModel, table=True):
    """A client (one department) or a user (a role and a region scope).

    Only the token's keyed hash is stored; the token itself is shown once.
    """

    __tablename__ = "principals"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=8)  # client | user
    name: str = Field(max_length=100)
    department: str | None = Field(default=None, max_length=40)
    role: str | None = Field(default=None, max_length=20)
    region_code: str | None = Field(default=None, sa_column=Column(RegionCode, nullable=True))
    token_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False, unique=True))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
