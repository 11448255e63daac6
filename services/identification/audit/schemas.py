"""Response shape of the audit trail (API.md, identification)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditRecordOut(BaseModel):
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    request_id: str | None
    details: dict[str, Any]
