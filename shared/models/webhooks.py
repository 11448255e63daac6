"""Webhooks: a department's subscriptions and the deliveries of its feedback
items to them (推送-核实-反馈, SPEC §12)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlmodel import Field, SQLModel


class WebhookSubscription(SQLModel, table=True):
    """Where a department wants its feedback items POSTed. The signing secret
    is kept sealed (AES-GCM, shared.pii); it is shown once, when made.

    `busy_until` is the lease of the one delivery worker sending to this
    subscription now: at most one batch is in flight per subscription, across
    every process."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_department", "department"),)

    subscription_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    department: str = Field(sa_column=Column(String(40), nullable=False))
    url: str = Field(sa_column=Column(Text, nullable=False))
    secret_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_by: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=text("now()")),
    )
    busy_until: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class WebhookDelivery(SQLModel, table=True):
    """One feedback item for one subscription, until a 2xx answer (`delivered`)
    or the end of its retry window (`failed`). `body` is sent byte for byte
    the same on every attempt; `webhook_id` is the Standard Webhooks message id."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "webhook_id", name="uq_webhook_deliveries_message"),
        # The worker's claim: a subscription's due deliveries, oldest first.
        Index(
            "ix_webhook_deliveries_due",
            "subscription_id",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        # The list: a subscription's deliveries in the order they were made.
        Index("ix_webhook_deliveries_list", "subscription_id", "seq"),
        # Retention: settled deliveries, oldest last attempt first.
        Index(
            "ix_webhook_deliveries_settled",
            "last_attempt_at",
            postgresql_where=text("status <> 'pending'"),
        ),
    )

    delivery_id: uuid.UUID = Field(sa_column=Column(Uuid, primary_key=True))
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=False), nullable=False)
    )
    subscription_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid,
            ForeignKey("webhook_subscriptions.subscription_id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    webhook_id: str = Field(sa_column=Column(String(80, collation="C"), nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(sa_column=Column(String(10), nullable=False))  # pending|delivered|failed
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    # Attempts since it was last queued (the back-off counts from these).
    round_attempts: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    last_status_code: int | None = Field(default=None, sa_column=Column(SmallInteger))
    # Why the last attempt got no answer: timeout, connect_error, address_not_allowed...
    last_error: str | None = Field(default=None, sa_column=Column(String(40)))
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    # Failed attempts are retried until this instant (at least 24 hours after queueing).
    retry_until: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
