"""Assistance gaps, computed live (API.md, assistance)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.assistance.gaps.detection import list_gaps
from services.assistance.gaps.schemas import GapList, GapOut
from shared import clock
from shared.auth import Staff, scope_region
from shared.db import SessionDep

router = APIRouter(tags=["gaps"])

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000


@router.get("/gaps", response_model=GapList, summary="Assistance gaps in your region (staff)")
async def get_gaps(
    session: SessionDep,
    principal: Staff,
    region: Annotated[str | None, Query(description="12-digit region code")] = None,
    kind: Annotated[str | None, Query(description="One gap kind")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> GapList:
    items, next_cursor = await list_gaps(
        session,
        region_code=scope_region(principal, region),
        kind=kind,
        today=clock.today(),
        limit=limit,
        cursor=cursor,
    )
    return GapList(
        items=[GapOut.model_validate(row, from_attributes=True) for row in items],
        next_cursor=next_cursor,
    )
