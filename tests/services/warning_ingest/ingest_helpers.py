"""Tokens, registry rows and records for the ingest tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import issue_token
from shared.idcard import compose_id_number
from shared.pii import PiiProtector
from shared.registry import load_households
from shared.settings import get_settings

BATCHES = "/ingest/v1/batches"
COUNTY = "610326000000"
VILLAGE = "610326100201"
TODAY = date(2026, 11, 23)


def person(seq: int, division: str = "610326") -> str:
    """A distinct valid ID number for every `seq` (the sequence digit's parity is the sex)."""
    born = date(1980, 1, 1) + timedelta(days=seq // 500)
    return compose_id_number(division, born, (seq % 500) * 2 + 1, sex="male")


async def department_headers(session: AsyncSession, department: str) -> dict[str, str]:
    _, token = await issue_token(session, kind="client", name=department, department=department)
    return {"Authorization": f"Bearer {token}"}


async def staff_headers(
    session: AsyncSession, role: str = "county_staff", region: str = COUNTY
) -> dict[str, str]:
    _, token = await issue_token(session, kind="user", name=role, role=role, region_code=region)
    return {"Authorization": f"Bearer {token}"}


def record(seq: int, warning_type: str = "dibao", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source_record_id": f"R-{seq}",
        "warning_type": warning_type,
        "id_number": person(seq),
        "name": "张三",
    }
    base.update(fields)
    return base


async def register(
    session: AsyncSession,
    household_id: str,
    seqs: list[int],
    *,
    category: str = "general",
    region: str = VILLAGE,
    name: str = "张三",
) -> None:
    """Load one household whose members are the people `seqs`."""
    members = [
        {
            "id_number": person(seq),
            "name": name,
            "relation": "head" if i == 0 else "child",
            "labour_capacity": "full",
        }
        for i, seq in enumerate(seqs)
    ]
    result = await load_households(
        session,
        [
            {
                "household_id": household_id,
                "region_code": region,
                "category": category,
                "head_name": name,
                "members": members,
            }
        ],
        protector=PiiProtector.from_secret(get_settings().secret_bytes()),
        actor="test",
        today=TODAY,
    )
    assert result.rejected == 0, result.summary()
