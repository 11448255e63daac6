"""The dependencies every reporting endpoint shares: the role check (`Reader`),
`?region=` (`ReportRegion`: default the caller's scope; 422 if malformed, 404
outside the scope) and `?date_from=&date_to=` (`ReportPeriod`: default the
current calendar year to today)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query

from services.reporting.figures import Period
from shared import clock
from shared.auth import STAFF_ROLES, VIEWER, Principal, require_role, scope_region
from shared.dates import check_period
from shared.errors import invalid
from shared.regions import is_well_formed

Reader = Annotated[Principal, Depends(require_role(VIEWER, *STAFF_ROLES))]


async def report_region(
    principal: Reader,
    region: Annotated[
        str | None, Query(description="12-digit region code; default your scope")
    ] = None,
) -> str:
    """The region a report is about, inside the caller's scope."""
    if region is not None and not is_well_formed(region):
        raise invalid("region", "invalid_region_code", "region must be a 12-digit region code")
    return scope_region(principal, region)


def report_period(
    date_from: Annotated[
        date | None, Query(description="Default 1 January of date_to's year")
    ] = None,
    date_to: Annotated[date | None, Query(description="Default today; both ends included")] = None,
) -> Period:
    """The period of the period figures (shared/dates.py): 422 `invalid_period` when it
    ends before it starts or is too long, `date_out_of_range` outside the window."""
    today = clock.today()
    end = date_to or today
    start = date_from or Period.year_to_date(end).date_from
    check_period(start, end, today=today)
    return Period(start, end)


ReportRegion = Annotated[str, Depends(report_region)]
ReportPeriod = Annotated[Period, Depends(report_period)]
