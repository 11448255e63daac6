"""The audit log: who wrote what, and who saw whose ID number."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import current_request_id
from shared.models import AuditRecord

# Rows that belong to no county (clients, users, policy) are filed under this code.
NATIONAL = "000000"


async def record(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    county_code: str = NATIONAL,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit row in the caller's transaction. `details` must hold no personal data."""
    session.add(
        AuditRecord(
            county_code=county_code,
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            request_id=current_request_id(),
            details=details or {},
        )
    )
    await session.flush()
