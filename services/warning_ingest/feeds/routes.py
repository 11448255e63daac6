"""Feeds and the catalog: `GET /feeds`, `GET /catalog`.

`GET /feeds` answers department clients for their own department (another
department's code is 404, like anything outside a caller's scope), and staff
of any level and admins for every department, or the one asked for. An
unknown department code is 422 `invalid_code`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.warning_ingest.feeds.cadence import FeedReport, catalog, feed_report
from services.warning_ingest.feeds.schemas import CatalogOut, FeedsOut
from shared import clock
from shared.auth import ADMIN, CurrentPrincipal
from shared.catalog import DEPARTMENTS
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound, invalid

router = APIRouter(tags=["feeds"])


async def feed_scope(
    principal: CurrentPrincipal,
    department: Annotated[
        str | None, Query(description="A department code of the catalog (default: all in scope)")
    ] = None,
) -> str | None:
    """The department a feed list is about, or None for all of them."""
    if department is not None and department not in DEPARTMENTS:
        raise invalid("department", "invalid_code", "not a department code of the catalog")
    if principal.kind == "client":
        if department not in (None, principal.department):
            raise NotFound()
        return principal.department
    if principal.is_staff or principal.role == ADMIN:
        return department
    raise Forbidden("Feeds are read by department clients, staff and admins.")


FeedScope = Annotated[str | None, Depends(feed_scope)]


@router.get(
    "/feeds",
    response_model=FeedsOut,
    summary="Feed states of the periodic warning types (clients: their own; staff: all)",
)
async def get_feeds(session: SessionDep, department: FeedScope) -> FeedReport:
    return await feed_report(session, now=clock.now(), department=department)


@router.get(
    "/catalog",
    response_model=CatalogOut,
    summary="Departments and warning types with labels, cadences and record fields",
)
async def get_catalog(_: CurrentPrincipal) -> dict[str, Any]:
    return catalog()
