"""`/subscriptions`: a department client registers where its feedback items
are POSTed, and follows their deliveries (API.md, warning_ingest)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from services.warning_ingest.webhooks import subscriptions as service
from services.warning_ingest.webhooks.schemas import (
    Deliveries,
    Delivery,
    NewSubscription,
    SubscriptionIn,
    Subscriptions,
)
from shared import clock
from shared.auth import Department
from shared.db import SessionDep
from shared.errors import NotFound, check_code
from shared.pagination import PageDep

router = APIRouter(tags=["webhooks"])


def _department(principal: Any) -> str:
    assert principal.department is not None  # a client always has one (issue_token)
    return str(principal.department)


async def own_subscription(
    subscription_id: UUID, session: SessionDep, principal: Department
) -> dict[str, Any]:
    """The caller's subscription; 404 for an unknown one or another department's."""
    found = await service.find_subscription(
        session, subscription_id=subscription_id, department=_department(principal)
    )
    if found is None:
        raise NotFound("No such subscription.")
    return found


OwnSubscription = Annotated[dict[str, Any], Depends(own_subscription)]


@router.post(
    "/subscriptions",
    status_code=status.HTTP_201_CREATED,
    response_model=NewSubscription,
    summary="Register a URL to receive this department's feedback items (department clients)",
)
async def create_subscription(
    body: SubscriptionIn, session: SessionDep, principal: Department
) -> dict[str, Any]:
    return await service.subscribe(
        session, department=_department(principal), url=body.url, actor=principal.actor
    )


@router.get(
    "/subscriptions", response_model=Subscriptions, summary="This department's subscriptions"
)
async def list_subscriptions(session: SessionDep, principal: Department) -> dict[str, Any]:
    items = await service.subscriptions_of(session, department=_department(principal))
    return {"items": items, "next_cursor": None}


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a subscription; nothing more is sent to it",
)
async def delete_subscription(
    subscription: OwnSubscription, session: SessionDep, principal: Department
) -> Response:
    await service.unsubscribe(
        session, subscription_id=subscription["subscription_id"], actor=principal.actor
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    response_model=Deliveries,
    summary="A subscription's deliveries, newest first",
)
async def list_deliveries(
    subscription: OwnSubscription,
    session: SessionDep,
    page: PageDep,
    delivery_status: Annotated[
        str | None, Query(alias="status", description="pending | delivered | failed")
    ] = None,
) -> dict[str, Any]:
    check_code("status", delivery_status, service.DELIVERY_STATUSES)
    items, next_cursor = await service.deliveries_page(
        session,
        subscription_id=subscription["subscription_id"],
        status=delivery_status,
        cursor=page.cursor,
        limit=page.limit,
    )
    return {"items": items, "next_cursor": next_cursor}


@router.post(
    "/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Delivery,
    summary="Queue a delivery again now (with a fresh 24-hour retry window)",
)
async def redeliver(
    delivery_id: UUID, subscription: OwnSubscription, session: SessionDep, principal: Department
) -> dict[str, Any]:
    queued = await service.redeliver(
        session,
        subscription_id=subscription["subscription_id"],
        delivery_id=delivery_id,
        now=clock.now(),
        actor=principal.actor,
    )
    if queued is None:
        raise NotFound("No such delivery.")
    return queued
