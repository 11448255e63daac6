"""Feedback to departments: `GET /feedback`, the outcome of a department's own
warnings in the order they changed (API.md, warning_ingest)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.warning_ingest.feedback.page import feedback_page
from shared.auth import Department
from shared.db import SessionDep
from shared.pagination import PageDep

router = APIRouter(tags=["feedback"])


class FeedbackItem(BaseModel):
    """One warning's state as of one change."""

    source_record_id: str
    warning_id: UUID
    status: Literal["matched", "unmatched", "below_threshold", "dismissed"]
    case_id: UUID | None
    outcome: Literal["included", "not_included", "not_eligible", "risk_updated", "dismissed"] | None
    changed_at: datetime


class FeedbackPage(BaseModel):
    items: list[FeedbackItem]
    next_cursor: str = Field(
        description="Where to resume; never null. Polling with it returns only what changed since."
    )


@router.get(
    "/feedback",
    response_model=FeedbackPage,
    summary="How the calling department's warnings changed (department clients)",
)
async def get_feedback(session: SessionDep, principal: Department, page: PageDep) -> FeedbackPage:
    assert principal.department is not None  # a client always has one (issue_token)
    items, next_cursor = await feedback_page(
        session, department=principal.department, cursor=page.cursor, limit=page.limit
    )
    return FeedbackPage.model_validate({"items": items, "next_cursor": next_cursor})
