"""Request and response shapes of requests upward (API.md, identification:
`.../monitoring_objects/{object_id}/requests`, `/requests`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared.dates import Day
from shared.policy import Level
from shared.text import FreeText

Kind = Literal["rollback", "removal"]
Status = Literal["pending", "approved", "rejected"]


class RequestIn(BaseModel):
    """风险消除回退 or 清退, asked in writing (the township gathers the list)."""

    kind: Kind = Field(description="rollback (风险消除回退) | removal (清退)")
    reason: Annotated[FreeText, Field(min_length=1, max_length=2000)]
    requested_on: Day = Field(description="The written request's date; not in the future")
    evidence: Annotated[FreeText | None, Field(max_length=2000)] = None


class DecisionIn(BaseModel):
    """One level's decision, recorded by county staff (the higher levels' on paper)."""

    level: Level = Field(description="county | city | province | national; the next in the chain")
    decision: Literal["approved", "rejected"]
    decided_on: Day = Field(
        description="Not in the future, not before the request or the level below"
    )
    document_no: Annotated[FreeText | None, Field(max_length=100, description="文号")] = None
    notes: Annotated[FreeText | None, Field(max_length=2000)] = None


class ChainLevelOut(BaseModel):
    level: Level
    decision: Literal["approved", "rejected"] | None
    decided_on: date | None
    document_no: str | None
    recorded_by: str | None
    notes: str | None = None


class RequestOut(BaseModel):
    request_id: UUID
    object_id: UUID
    household_id: str
    region_code: str
    kind: Kind
    reason: str
    evidence: str | None
    requested_on: date
    requested_by: str
    status: Status
    chain: list[ChainLevelOut] = Field(description="The policy's levels for the kind, in order")


class RequestPage(BaseModel):
    items: list[RequestOut]
    next_cursor: str | None
