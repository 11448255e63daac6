"""Batches: pushes and their receipts."""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response

from services.warning_ingest.batches import small_push
from services.warning_ingest.batches import storing as batches
from services.warning_ingest.batches.formats import read_push
from services.warning_ingest.batches.schemas import (
    Receipt,
    batch_body_spec,
)
from services.warning_ingest.warnings.lookup import ReceiptRow, get_receipt
from shared import clock
from shared.auth import (
    ADMIN,
    COUNTY_STAFF,
    CurrentPrincipal,
    Department,
)
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound
from shared.pii import PiiProtector
from shared.policy import get_policy
from shared.settings import get_settings

router = APIRouter(tags=["warnings"])


@lru_cache(maxsize=2)
def _protector(secret: bytes) -> PiiProtector:
    # Built once per secret, not per push: deriving its two keys and preparing
    # the HMAC and AES objects cost a one-record push more than using them.
    return PiiProtector.from_secret(secret)


RegionQuery = Annotated[str | None, Query(description="12-digit region code; default your scope")]


@router.post(
    "/batches",
    status_code=201,
    response_model=Receipt,
    summary="Push a batch of warning records (department clients)",
    openapi_extra=batch_body_spec(),
    responses={200: {"description": "An idempotent replay: the first receipt"}},
)
async def post_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    pusher: Department,
    period_end: Annotated[str | None, Query(description="NDJSON and CSV forms")] = None,
    atomic: Annotated[str | None, Query(description="NDJSON and CSV forms")] = None,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> dict[str, Any]:
    push = await read_push(
        request.headers.get("content-type", ""),
        request.stream(),
        period_end=period_end,
        atomic=atomic,
    )
    if idempotency_key is not None:
        earlier = await batches.replay(session, client_id=pusher.id, key=idempotency_key, push=push)
        if earlier is not None:
            response.status_code = 200
            return earlier
    assert pusher.department is not None
    return await small_push.store_push(
        session,
        pusher=batches.Pusher(pusher.id, pusher.department, pusher.actor, pusher.region_code),
        push=push,
        idempotency_key=idempotency_key,
        protector=_protector(get_settings().secret_bytes()),
        policy=get_policy(),
        now=clock.now(),
        today=clock.today(),
    )


@router.get(
    "/batches/{batch_id}",
    response_model=Receipt,
    summary="A batch's receipt (the pushing department, county staff, admins)",
)
async def get_batch(
    batch_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> ReceiptRow:
    # A receipt covers every county of the push, so staff below the county do
    # not read it.
    if principal.kind == "user" and principal.role not in (COUNTY_STAFF, ADMIN):
        raise Forbidden("Only the pushing department, county staff and admins read receipts.")
    receipt = await get_receipt(session, batch_id=batch_id)
    if receipt is None or (principal.kind == "client" and receipt.client_id != principal.id):
        raise NotFound()
    return receipt
