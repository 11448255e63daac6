"""Warnings: lists, one warning, the unmatched queue and its resolution (staff)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.warning_ingest.warnings import unmatched
from services.warning_ingest.warnings.lookup import WarningRow, get_warning, list_warnings
from services.warning_ingest.warnings.schemas import (
    ResolveIn,
    WarningOut,
    WarningPage,
)
from shared import clock
from shared.auth import (
    CountyStaff,
    Principal,
    Staff,
    row_in_scope,
    scope_region,
)
from shared.db import SessionDep
from shared.pagination import PageDep
from shared.policy import get_policy

router = APIRouter(tags=["warnings"])

RegionQuery = Annotated[str | None, Query(description="12-digit region code; default your scope")]


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
) -> WarningRow:
    """The warning, or 404 if it does not exist or lies outside the caller's scope."""
    return row_in_scope(principal, await get_warning(session, warning_id=warning_id))


WarningInScope = Annotated[WarningRow, Depends(warning_in_scope)]


@router.get("/warnings/{warning_id}", response_model=WarningOut, summary="One warning (staff)")
async def get_one_warning(warning: WarningInScope) -> WarningRow:
    return warning


@router.post(
    "/warnings/{warning_id}/resolve",
    response_model=WarningOut,
    summary="Match an unmatched warning to a household, or dismiss it (county staff)",
)
async def post_resolve(
    principal: CountyStaff, body: ResolveIn, warning: WarningInScope, session: SessionDep
) -> WarningRow:
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
    resolved = await get_warning(session, warning_id=warning.warning_id)
    assert resolved is not None
    return resolved


def _scope_of(principal: Principal) -> str:
    assert principal.region_code is not None
    return principal.region_code
