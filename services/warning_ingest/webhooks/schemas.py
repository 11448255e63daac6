"""Request and response bodies of the webhook routes (API.md, warning_ingest)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class SubscriptionIn(BaseModel):
    url: str = Field(
        max_length=2000,
        description="An https URL (or http) whose host is in WARNEX_WEBHOOK_ALLOWED_HOSTS.",
    )


class Subscription(BaseModel):
    subscription_id: UUID
    url: str
    created_at: datetime


class NewSubscription(Subscription):
    secret: str = Field(
        description="`whsec_...`: the signing secret, shown this once and never again."
    )


class Subscriptions(BaseModel):
    items: list[Subscription]
    next_cursor: str | None = None


class Delivery(BaseModel):
    """One feedback item for one subscription."""

    delivery_id: UUID
    webhook_id: str = Field(description="The `webhook-id` header, the same on every attempt.")
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    next_attempt_at: datetime | None


class Deliveries(BaseModel):
    items: list[Delivery]
    next_cursor: str | None
