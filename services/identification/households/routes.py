"""The household view, with the audited reveal of ID numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.identification.cases.lookup import household_in_scope
from services.identification.households.schemas import HouseholdOut
from services.identification.households.view import household_view
from shared import clock
from shared.auth import COUNTY_STAFF, Staff
from shared.db import SessionDep
from shared.errors import Forbidden
from shared.pii import PiiProtector
from shared.settings import get_settings

router = APIRouter(tags=["households"])


@router.get(
    "/households/{household_id}",
    response_model=HouseholdOut,
    summary="A household with its members, monitoring objects, cases and warnings (staff)",
    responses={403: {"description": "`reveal=true` by anyone but county staff"}},
)
async def get_household(
    household_id: str,
    response: Response,
    session: SessionDep,
    principal: Staff,
    reveal: Annotated[
        bool, Query(description="Show full ID numbers (county staff; audited)")
    ] = False,
) -> HouseholdOut:
    if reveal and principal.role != COUNTY_STAFF:
        raise Forbidden("Only county staff may reveal ID numbers.")
    household = await household_in_scope(session, household_id=household_id, principal=principal)
    # Personal data: never kept by a browser or a proxy.
    response.headers["Cache-Control"] = "no-store"
    return await household_view(
        session,
        household=household,
        today=clock.today(),
        reveal=reveal,
        protector=PiiProtector.from_secret(get_settings().secret_bytes()) if reveal else None,
        actor=principal.actor,
    )
