"""The audit log: who wrote what, and who saw whose ID number."""

from __future__ import annotations

from typing import Any

import orjson
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


# The row record() adds, as SQL for a caller that writes it in a statement of
# its own (a CTE of a bigger statement), with the bind parameters of `row_params`.
INSERT_ROW = (
    "INSERT INTO audit_log (county_code, actor, action, target_type, target_id, request_id,"
    " details) VALUES (:audit_county_code, :audit_actor, :audit_action, :audit_target_type,"
    " :audit_target_id, :audit_request_id, CAST(:audit_details AS jsonb))"
)


def row_params(
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    county_code: str = NATIONAL,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The bind parameters of INSERT_ROW: the row record() would add.
    `details` must hold no personal data."""
    return {
        "audit_county_code": county_code,
        "audit_actor": actor,
        "audit_action": action,
        "audit_target_type": target_type,
        "audit_target_id": target_id,
        "audit_request_id": current_request_id(),
        "audit_details": orjson.dumps(details or {}).decode(),
    }
