"""What the request tests share: a policy with another chain, objects, calls."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.policy import get_policy
from shared.settings import reset_settings

# 2026-11-23 10:00 in Asia/Shanghai: today is 23 November.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ID = "/identification/v1"
OBJECTS = ID + "/monitoring_objects"
REQUESTS = ID + "/requests"


@contextmanager
def requests_policy(path: Path, **chains: list[str]) -> Iterator[None]:
    """Run with a policy file holding only `[requests]` (the rest stays shipped)."""
    lines = [
        "[requests]",
        *(f"{kind} = {chain!r}".replace("'", '"') for kind, chain in chains.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    previous = os.environ.get("WARNEX_POLICY_FILE")
    os.environ["WARNEX_POLICY_FILE"] = str(path)
    reset_settings()
    get_policy.cache_clear()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("WARNEX_POLICY_FILE", None)
        else:
            os.environ["WARNEX_POLICY_FILE"] = previous
        reset_settings()
        get_policy.cache_clear()


async def file(
    client: httpx.AsyncClient,
    object_id: str,
    headers: dict[str, str],
    kind: str = "rollback",
    **changes: Any,
) -> httpx.Response:
    body = {
        "kind": kind,
        "reason": "因病返贫风险，申请回退",
        "requested_on": "2026-11-20",
        **changes,
    }
    return await client.post(f"{OBJECTS}/{object_id}/requests", json=body, headers=headers)


async def decide(
    client: httpx.AsyncClient,
    request_id: str,
    headers: dict[str, str],
    level: str = "county",
    decision: str = "approved",
    **changes: Any,
) -> httpx.Response:
    body = {
        "level": level,
        "decision": decision,
        "decided_on": "2026-11-21",
        "document_no": f"{level}〔2026〕7号",
        **changes,
    }
    return await client.post(f"{REQUESTS}/{request_id}/decisions", json=body, headers=headers)


async def object_row(session: AsyncSession, object_id: str) -> dict[str, Any]:
    row = (
        (
            await session.execute(
                text(
                    "SELECT status, eliminated_on, rolled_back_on, rollback_reason, removed_on,"
                    " removal_reason, removal_approved_by FROM monitoring_objects"
                    " WHERE object_id = CAST(:id AS uuid)"
                ),
                {"id": object_id},
            )
        )
        .mappings()
        .one()
    )
    return dict(row)


async def events(session: AsyncSession) -> list[str]:
    return list(await session.scalars(text("SELECT type FROM events ORDER BY id")))


def code(response: httpx.Response) -> str:
    """The problem's slug (409) or its first field error's code (422)."""
    body = response.json()
    if response.status_code == 422:
        return str(body["errors"][0]["code"])
    return str(body["type"]).rsplit(":", 1)[-1]
