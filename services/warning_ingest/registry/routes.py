"""Registry loads over HTTP: `POST /registry/households` (county staff and
admins) and `POST /registry/regions` (admins). Each answers 200 with
`{"upserted", "rejected", "errors"}`.

A county staff member's households must lie in their scope: one outside it
is rejected in its row with `region_code` / `out_of_scope`. Bodies are JSON
(`{"households": [...]}`) or NDJSON, one record per line, read as a stream;
a line that is not JSON is rejected at its index with `invalid_json`. A
region naming an unknown key-area attribute makes the whole regions load a
422 `unknown_region_attribute` that stores nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request

from services.warning_ingest.registry.schemas import (
    HouseholdIn,
    HouseholdsIn,
    LoadAnswer,
    RegionIn,
    RegionsIn,
    body_spec,
)
from shared import clock
from shared.auth import ADMIN, COUNTY_STAFF, Principal, require_role
from shared.db import SessionDep
from shared.errors import (
    FieldError,
    MalformedJson,
    Unprocessable,
    UnsupportedContentType,
    invalid,
)
from shared.pii import PiiProtector
from shared.registry import load_households, load_regions
from shared.registry.files import ndjson_records_async
from shared.registry.records import UNKNOWN_REGION_ATTRIBUTE
from shared.settings import get_settings

router = APIRouter(prefix="/registry", tags=["registry"])

RegistryLoader = Annotated[Principal, Depends(require_role(COUNTY_STAFF, ADMIN))]
Admin = Annotated[Principal, Depends(require_role(ADMIN))]

NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)


async def _records(request: Request, key: str) -> list[Any] | AsyncIterable[Any]:
    """The records of a JSON body's `key` list, or of an NDJSON stream."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in NDJSON_TYPES:
        return ndjson_records_async(request.stream())
    if media != "application/json":
        raise UnsupportedContentType("Send application/json or application/x-ndjson.")
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise MalformedJson("The body is not valid JSON.") from None
    if not isinstance(body, dict) or key not in body:
        raise invalid(key, "missing_field", f"the body must be an object with a `{key}` list")
    records = body[key]
    if not isinstance(records, list):
        raise invalid(key, "invalid_value", f"`{key}` must be a list")
    return records


@router.post(
    "/households",
    response_model=LoadAnswer,
    summary="Upsert households with their members (county staff, admins)",
    openapi_extra=body_spec(HouseholdsIn, HouseholdIn),
)
async def post_households(
    request: Request, session: SessionDep, principal: RegistryLoader
) -> dict[str, Any]:
    records = await _records(request, "households")
    result = await load_households(
        session,
        records,
        protector=PiiProtector.from_secret(get_settings().secret_bytes()),
        actor=principal.actor,
        today=clock.today(),
        scope=principal.region_code if principal.role == COUNTY_STAFF else None,
    )
    return result.summary()


@router.post(
    "/regions",
    response_model=LoadAnswer,
    summary="Upsert regions (admins)",
    openapi_extra=body_spec(RegionsIn, RegionIn),
)
async def post_regions(request: Request, session: SessionDep, principal: Admin) -> dict[str, Any]:
    records = await _records(request, "regions")
    result = await load_regions(session, records, actor=principal.actor)
    unknown = [
        FieldError(f"regions[{r['index']}].{e['field']}", e["code"], e["message"])
        for r in result.errors
        for e in r["errors"]
        if e["code"] == UNKNOWN_REGION_ATTRIBUTE
    ]
    if unknown:
        # Raising rolls the load back: a misspelt key area stores nothing.
        raise Unprocessable("A region names an unknown attribute.", errors=unknown)
    return result.summary()
