"""跟踪关注: households found not eligible or not included, followed for the window."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.identification.follow_up.schemas import FollowUpOut, FollowUpPage
from services.identification.follow_up.watch_list import follow_up_list
from shared import clock
from shared.auth import Staff, scope_region
from shared.db import SessionDep
from shared.pagination import PageDep
from shared.policy import get_policy

router = APIRouter(tags=["follow-up"])


@router.get(
    "/follow_up",
    response_model=FollowUpPage,
    summary="Households under follow-up (跟踪关注), latest decision first (staff)",
)
async def get_follow_up(
    session: SessionDep,
    principal: Staff,
    page: PageDep,
    region: Annotated[str | None, Query(description="12-digit region code")] = None,
) -> FollowUpPage:
    items, next_cursor = await follow_up_list(
        session,
        region_code=scope_region(principal, region),
        today=clock.today(),
        window_days=get_policy().identification.follow_up_days,
        cursor=page.cursor,
        limit=page.limit,
    )
    return FollowUpPage(
        items=[FollowUpOut.model_validate(row, from_attributes=True) for row in items],
        next_cursor=next_cursor,
    )
