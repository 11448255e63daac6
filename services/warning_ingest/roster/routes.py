"""`GET /roster`: the persons a department must push for on its shorter
cadence, with full ID numbers, for the departments the policy lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from services.warning_ingest.roster.listing import (
    FORMATS,
    MEDIA_TYPES,
    record_download,
    stream_roster,
)
from shared.auth import Department
from shared.db import SessionDep
from shared.errors import Forbidden, check_code
from shared.pii import PiiProtector
from shared.policy import get_policy
from shared.settings import get_settings

router = APIRouter(tags=["roster"])


@router.get(
    "/roster",
    response_class=StreamingResponse,
    summary="Poverty-alleviated and monitored persons, full ID numbers, streamed "
    "(departments the policy lists; audited)",
    responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}},
)
async def get_roster(
    session: SessionDep,
    principal: Department,
    output: Annotated[str, Query(alias="format", description="ndjson | csv")] = "ndjson",
) -> StreamingResponse:
    policy = get_policy().rosters
    if principal.department not in policy.departments:
        raise Forbidden("The policy does not give this department the roster.")
    check_code("format", output, FORMATS)
    # Written and committed before the first row leaves (the session commits
    # before the response starts): no download goes unaudited.
    count = await record_download(
        session,
        department=str(principal.department),
        region_code=principal.region_code,
        output=output,
        actor=principal.actor,
    )
    assert session.bind is not None
    timeout = get_settings().statement_timeouts()["client"]
    body = stream_roster(
        session.bind,
        region_code=principal.region_code,
        cadence_days=policy.cadence_days,
        output=output,
        protector=PiiProtector.from_secret(get_settings().secret_bytes()),
        statement_timeout_ms=round(timeout * 1000),
    )
    extension = "csv" if output == "csv" else "ndjson"
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[output],
        headers={
            "content-disposition": f'attachment; filename="roster.{extension}"',
            "x-roster-count": str(count),
            "cache-control": "no-store",
        },
    )
