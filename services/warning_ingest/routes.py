"""Batches and warnings: pushes, receipts, lists, the unmatched queue."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from services.warning_ingest import batches, small_push, unmatched
from services.warning_ingest.formats import read_push
from services.warning_ingest.schemas import (
    Receipt,
    ResolveIn,
    WarningOut,
    WarningPage,
    batch_body_spec,
)
from services.warning_ingest.warnings import get_receipt, get_warning, list_warnings
from shared import clock
from shared.auth import (
    ADMIN,
    COUNTY_STAFF,
    CountyStaff,
    CurrentPrincipal,
    Department,
    Principal,
    Staff,
    found_in_scope,
    scope_region,
)
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound
from shared.pagination import PageDep
from shared.pii import PiiProtector
from shared.policy import get_policy
from shared.settings import get_settings

router = APIRouter(tags=["warnings"])

RegionQuery = Annotated[str | None, Query(description="12-digit region code; default your scope")]


@router.post(
    "/batches",
    status_code=201,
    response_model=Receipt,
    summary="Push a batch of warning records (department clients)",
    openapi_extra=batch_body_spec(),
    responses={200: {"description": "An idempotent replay: the first receipt"}},
)
async def post_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    pusher: Department,
    period_end: Annotated[str | None, Query(description="NDJSON and CSV forms")] = None,
    atomic: Annotated[str | None, Query(description="NDJSON and CSV forms")] = None,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> dict[str, Any]:
    push = await read_push(
        request.headers.get("content-type", ""),
        request.stream(),
        period_end=period_end,
        atomic=atomic,
    )
    if idempotency_key is not None:
        earlier = await batches.replay(session, client_id=pusher.id, key=idempotency_key, push=push)
        if earlier is not None:
            response.status_code = 200
            return earlier
    assert pusher.department is not None
    return await small_push.store_push(
        session,
        pusher=batches.Pusher(pusher.id, pusher.department, pusher.actor, pusher.region_code),
        push=push,
        idempotency_key=idempotency_key,
        protector=PiiProtector.from_secret(get_settings().secret_bytes()),
        policy=get_policy(),
        now=clock.now(),
        today=clock.today(),
    )


@router.get(
    "/batches/{batch_id}",
    response_model=Receipt,
    summary="A batch's receipt (the pushing department, county staff, admins)",
)
async def get_batch(
    batch_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    # A receipt covers every county of the push, so staff below the county do
    # not read it.
    if principal.kind == "user" and principal.role not in (COUNTY_STAFF, ADMIN):
        raise Forbidden("Only the pushing department, county staff and admins read receipts.")
    receipt = await get_receipt(session, batch_id=batch_id)
    if receipt is None or (principal.kind == "client" and receipt["client_id"] != principal.id):
        raise NotFound()
    return receipt


@router.get("/warnings", response_model=WarningPage, summary="Warnings in your region (staff)")
async def get_warnings(
    session: SessionDep,
    principal: Staff,
    page: PageDep,
    region: RegionQuery = None,
    warning_type: str | None = None,
    department: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    items, next_cursor = await list_warnings(
        session,
        region_code=scope_region(principal, region),
        warning_type=warning_type,
        department=department,
        status=status,
        cursor=page.cursor,
        limit=page.limit,
    )
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/unmatched",
    response_model=WarningPage,
    summary="Warnings whose person is not in the registry (staff)",
)
async def get_unmatched(
    session: SessionDep, principal: Staff, page: PageDep, region: RegionQuery = None
) -> dict[str, Any]:
    items, next_cursor = await list_warnings(
        session,
        region_code=scope_region(principal, region),
        status="unmatched",
        cursor=page.cursor,
        limit=page.limit,
    )
    return {"items": items, "next_cursor": next_cursor}


async def warning_in_scope(
    warning_id: uuid.UUID, session: SessionDep, principal: Staff
) -> dict[str, Any]:
    """The warning, or 404 if it does not exist or lies outside the caller's scope."""
    return found_in_scope(principal, await get_warning(session, warning_id=warning_id))


WarningInScope = Annotated[dict[str, Any], Depends(warning_in_scope)]


@router.get("/warnings/{warning_id}", response_model=WarningOut, summary="One warning (staff)")
async def get_one_warning(warning: WarningInScope) -> dict[str, Any]:
    return warning


@router.post(
    "/warnings/{warning_id}/resolve",
    response_model=WarningOut,
    summary="Match an unmatched warning to a household, or dismiss it (county staff)",
)
async def post_resolve(
    principal: CountyStaff, body: ResolveIn, warning: WarningInScope, session: SessionDep
) -> dict[str, Any]:
    # `principal` comes first: FastAPI solves dependencies in signature order,
    # so a role that may never resolve gets 403 before the scope lookup's 404.
    await unmatched.resolve(
        session,
        warning=warning,
        action=body.action,
        reason=body.reason,
        household_id=body.household_id,
        scope=_scope_of(principal),
        actor=principal.actor,
        policy=get_policy(),
        today=clock.today(),
        now=clock.now(),
    )
    resolved = await get_warning(session, warning_id=warning["warning_id"])
    assert resolved is not None
    return resolved


def _scope_of(principal: Principal) -> str:
    assert principal.region_code is not None
    return principal.region_code
