"""Reading the audit trail of a county, newest first, as `AuditRow`s."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.pagination import newest_first_rows


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audit record (API.md `AuditRecord`, plus its id, the page's key)."""

    id: int
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    request_id: str | None
    details: dict[str, Any]  # the record's JSON details, as written


# The fields of AuditRow; a county's records come off (county_code, id).
_SELECT = "SELECT id, at, actor, action, target_type, target_id, request_id, details FROM audit_log"


async def audit_trail(
    session: AsyncSession,
    *,
    county_code: str,
    target_id: str | None,
    target_type: str | None,
    actor: str | None,
    action: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[AuditRow], str | None]:
    """The county's audit records matching every filter given, newest first."""
    filters = {"target_id": target_id, "target_type": target_type, "actor": actor, "action": action}
    given = {column: value for column, value in filters.items() if value is not None}
    return await newest_first_rows(
        session,
        into=AuditRow,
        select=_SELECT,
        where=["county_code = :county_code", *(f"{column} = :{column}" for column in given)],
        params={"county_code": county_code, **given},
        order=(("id", "id", int),),
        cursor=cursor,
        limit=limit,
    )
