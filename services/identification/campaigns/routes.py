"""Screening campaigns (集中排查, SPEC §11): campaigns, the form catalog,
screening uploads, coverage and the unscreened list."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request

from services.identification.campaigns import coverage, lookup, planning
from services.identification.campaigns.lookup import CampaignInScope
from services.identification.campaigns.rows import CampaignView
from services.identification.campaigns.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignPatchIn,
    CatalogOut,
    CoverageOut,
    ScreeningReceipt,
    UnscreenedHousehold,
    UnscreenedPage,
    upload_body_spec,
)
from services.identification.screenings.forms import read_upload
from services.identification.screenings.record import FIELDS
from services.identification.screenings.store import Uploader, store_screenings
from shared import clock
from shared.auth import CountyStaff, CurrentPrincipal, Staff
from shared.catalog import CAMPAIGN_PHASE_KINDS, PROBLEM_TYPES, SCREENING_FIELDS, SPOT_CHECK_KINDS
from shared.db import SessionDep
from shared.errors import NotFound
from shared.pagination import PageDep
from shared.policy import get_policy

router = APIRouter(tags=["screening"])

RegionQuery = Annotated[
    str | None,
    Query(description="12-digit region code; default your scope within the campaign's region"),
]


def _codes(labels: dict[str, str]) -> list[dict[str, str]]:
    return [{"code": code, "label": label} for code, label in labels.items()]


@router.post(
    "/campaigns",
    status_code=201,
    response_model=CampaignOut,
    summary="Create a screening campaign of a region (county staff)",
)
async def post_campaign(
    principal: CountyStaff, body: CampaignIn, session: SessionDep
) -> CampaignView:
    row = await planning.create_campaign(
        session,
        principal=principal,
        name=body.name,
        region_code=body.region_code,
        year=body.year,
        starts_on=body.starts_on,
        phases=[phase.model_dump() for phase in body.phases],
        now=clock.now(),
    )
    return await lookup.view_campaign(session, row, today=clock.today())


@router.get(
    "/campaigns",
    response_model=CampaignPage,
    summary="Campaigns whose region overlaps your scope, newest first (staff)",
)
async def get_campaigns(session: SessionDep, principal: Staff, page: PageDep) -> dict[str, Any]:
    items, next_cursor = await lookup.list_campaigns(
        session, principal=principal, today=clock.today(), cursor=page.cursor, limit=page.limit
    )
    return {"items": items, "next_cursor": next_cursor}


# Declared before /campaigns/{campaign_id}, which would take "catalog" for an id.
@router.get(
    "/campaigns/catalog",
    response_model=CatalogOut,
    summary="The screening form's codes, problem types and phase kinds (any caller)",
)
async def get_catalog(_: CurrentPrincipal) -> dict[str, Any]:
    return {
        "fields": {field: _codes(codes) for field, codes in SCREENING_FIELDS.items()},
        "problem_types": _codes(PROBLEM_TYPES),
        "phase_kinds": _codes(CAMPAIGN_PHASE_KINDS),
        "spot_check_kinds": _codes(SPOT_CHECK_KINDS),
        "record_fields": list(FIELDS),
    }


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignOut,
    summary="One campaign with its phases' state (staff)",
)
async def get_campaign(session: SessionDep, campaign: CampaignInScope) -> CampaignView:
    return await lookup.view_campaign(session, campaign, today=clock.today())


@router.patch(
    "/campaigns/{campaign_id}",
    response_model=CampaignOut,
    summary="Mark phases done and enter the figures warnex cannot count (county staff)",
)
async def patch_campaign(
    principal: CountyStaff,
    body: CampaignPatchIn,
    campaign_id: uuid.UUID,
    session: SessionDep,
) -> CampaignView:
    campaign = await lookup.get_campaign_row(session, campaign_id=campaign_id)
    # The whole campaign changes: its region must lie inside the caller's scope.
    if campaign is None or not principal.covers(campaign.region_code):
        raise NotFound()
    today = clock.today()
    figures = body.reported_figures.model_dump(exclude_none=True) if body.reported_figures else {}
    updated = await planning.update_campaign(
        session,
        campaign=campaign,
        marks=[(mark.index, mark.done_on) for mark in body.phases or []],
        figures=figures,
        actor=principal.actor,
        today=today,
    )
    return await lookup.view_campaign(session, updated, today=today)


@router.post(
    "/campaigns/{campaign_id}/screenings",
    status_code=201,
    response_model=ScreeningReceipt,
    summary="Upload screening records: JSON, CSV or XLSX village forms (staff)",
    openapi_extra=upload_body_spec(),
)
async def post_screenings(
    request: Request, principal: Staff, session: SessionDep, campaign: CampaignInScope
) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    # Parsing a large XLSX takes seconds: off the event loop.
    records = await to_thread.run_sync(read_upload, content_type, body)
    assert principal.region_code is not None
    return await store_screenings(
        session,
        campaign=campaign,
        records=records,
        uploader=Uploader(principal.actor, principal.region_code),
        decision_days=get_policy().identification.decision_days,
        today=clock.today(),
        now=clock.now(),
    )


@router.get(
    "/campaigns/{campaign_id}/coverage",
    response_model=CoverageOut,
    summary="Households screened against the registry, per town or village (staff)",
)
async def get_coverage(
    session: SessionDep,
    principal: Staff,
    campaign: CampaignInScope,
    region: RegionQuery = None,
    level: Annotated[
        str | None, Query(description="town | village; default the level below the region")
    ] = None,
) -> CoverageOut:
    region_code = coverage.coverage_region(campaign, principal, region)
    items = await coverage.coverage(
        session,
        campaign=campaign,
        region_code=region_code,
        level=coverage.coverage_level(region_code, level),
    )
    return CoverageOut(items=items)


@router.get(
    "/campaigns/{campaign_id}/unscreened",
    response_model=UnscreenedPage,
    summary="Registered households not yet screened in the campaign (staff)",
)
async def get_unscreened(
    session: SessionDep,
    principal: Staff,
    campaign: CampaignInScope,
    page: PageDep,
    region: RegionQuery = None,
) -> UnscreenedPage:
    items, next_cursor = await coverage.unscreened(
        session,
        campaign=campaign,
        region_code=coverage.coverage_region(campaign, principal, region),
        cursor=page.cursor,
        limit=page.limit,
    )
    return UnscreenedPage(
        items=[UnscreenedHousehold.model_validate(row, from_attributes=True) for row in items],
        next_cursor=next_cursor,
    )
