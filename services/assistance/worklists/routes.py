"""Worklists: objects ready to eliminate, eliminated objects to roll back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.assistance.worklists.lists import ready_to_eliminate, rollback_candidates
from services.assistance.worklists.schemas import (
    ReadyOut,
    ReadyPage,
    RollbackCandidateOut,
    RollbackCandidatePage,
)
from shared import clock
from shared.auth import Staff, scope_region
from shared.db import SessionDep
from shared.pagination import PageDep
from shared.policy import get_policy

router = APIRouter(tags=["worklists"])

Region = Annotated[str | None, Query(description="12-digit region code")]


@router.get(
    "/ready_to_eliminate",
    response_model=ReadyPage,
    summary="Objects meeting every elimination criterion today (staff)",
)
async def get_ready_to_eliminate(
    session: SessionDep, principal: Staff, page: PageDep, region: Region = None
) -> ReadyPage:
    items, next_cursor = await ready_to_eliminate(
        session,
        region_code=scope_region(principal, region),
        policy=get_policy(),
        today=clock.today(),
        cursor=page.cursor,
        limit=page.limit,
    )
    return ReadyPage(
        items=[ReadyOut.model_validate(row, from_attributes=True) for row in items],
        next_cursor=next_cursor,
    )


@router.get(
    "/rollback_candidates",
    response_model=RollbackCandidatePage,
    summary="Eliminated objects with a reason to roll back (回退) (staff)",
)
async def get_rollback_candidates(
    session: SessionDep, principal: Staff, page: PageDep, region: Region = None
) -> RollbackCandidatePage:
    items, next_cursor = await rollback_candidates(
        session,
        region_code=scope_region(principal, region),
        policy=get_policy(),
        cursor=page.cursor,
        limit=page.limit,
    )
    return RollbackCandidatePage(
        items=[RollbackCandidateOut.model_validate(row, from_attributes=True) for row in items],
        next_cursor=next_cursor,
    )
