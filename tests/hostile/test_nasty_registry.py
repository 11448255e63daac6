"""Every nasty value (tests/hostile/nasty.py) through every field of a JSON or
NDJSON registry load on `POST /ingest/v1/registry/households`: each household
must come out rejected with an error naming the field, or loaded and read back
(`GET /identification/v1/households/{id}`) exactly as sent. Never a 500, and the
value never appears in an error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.idcard import mask_id_number
from shared.registry import load_regions
from tests.hostile.nasty import (
    Nasty,
    ndjson_body,
    to_json,
)
from tests.hostile.nasty_helpers import (
    HOUSEHOLD_FIELDS,
    HOUSEHOLDS,
    MEDIA,
    app_client,
    assert_not_echoed,
    assert_refused_whole,
    cases,
    whole_body_refusal,
    wire_value,
)
from tests.services.identification.id_helpers import TOWN
from tests.services.warning_ingest.ingest_helpers import (
    COUNTY,
    VILLAGE,
    person,
    staff_headers,
)


@pytest.fixture
async def client(session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(session) as c:
        yield c


def _good_household(n: int) -> dict[str, Any]:
    return {
        "household_id": f"HX-{n}",
        "region_code": VILLAGE,
        "category": "general",
        "head_name": "张三",
        "members": [
            {
                "id_number": person(500 + n),
                "name": "张三",
                "relation": "head",
                "labour_capacity": "full",
                "disability_grade": 2,
                "in_school": False,
            }
        ],
    }


def _set(household: dict[str, Any], field: str, value: Any) -> None:
    if field.startswith("members[0]."):
        household["members"][0][field.removeprefix("members[0].")] = value
    else:
        household[field] = value


def _read_back(household: dict[str, Any], field: str) -> Any:
    if field.startswith("members[0]."):
        return household["members"][0][field.removeprefix("members[0].")]
    return household[field]


@pytest.mark.parametrize(("form", "nasty"), cases(("json", "ndjson", "ndjson_raw")))
async def test_a_nasty_value_in_any_registry_field_is_rejected_by_name_or_kept_as_sent(
    client: Any, session: AsyncSession, form: str, nasty: Nasty
) -> None:
    await load_regions(
        session,
        [{"code": c, "name": n} for c, n in ((COUNTY, "眉县"), (TOWN, "镇"), (VILLAGE, "村"))],
    )
    value = wire_value(nasty, form)
    households = []
    for n, field in enumerate(HOUSEHOLD_FIELDS):
        household = _good_household(n)
        _set(household, field, value)
        households.append(household)
    body = to_json({"households": households}) if form == "json" else ndjson_body(households)
    staff = await staff_headers(session, "county_staff", COUNTY)
    response = await client.post(
        HOUSEHOLDS, content=body, headers={**staff, "Content-Type": MEDIA[form]}
    )
    refusal = whole_body_refusal(nasty, form)
    if refusal is not None:
        assert_refused_whole(response, refusal, nasty)
        return
    assert response.status_code == 200, response.text
    answer = response.json()
    assert_not_echoed(answer, nasty, skip_keys=frozenset())
    rejected = {row["index"]: row["errors"] for row in answer["errors"]}
    assert answer["upserted"] + answer["rejected"] == len(HOUSEHOLD_FIELDS)
    for n, field in enumerate(HOUSEHOLD_FIELDS):
        if n in rejected:
            named = {e["field"] for e in rejected[n]}
            # shared.registry.files names a line that is not JSON `body`.
            assert field in named or (form.startswith("ndjson") and named == {"body"}), (
                field,
                rejected[n],
            )
            continue
        household_id = value if field == "household_id" else f"HX-{n}"
        read = await client.get(f"/identification/v1/households/{household_id}", headers=staff)
        assert read.status_code == 200, (field, read.text)
        sent = value.decode() if isinstance(value, bytes) else value
        stored = _read_back(read.json(), field)
        if field.endswith("id_number"):
            assert stored == mask_id_number(sent.strip().upper())
        elif isinstance(sent, str):
            assert stored == sent.strip(), field
        else:
            assert stored == sent, field
