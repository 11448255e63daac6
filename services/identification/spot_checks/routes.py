"""Cross-screening and spot-check samples of a campaign (交叉排查, 暗访抽查; SPEC §11)."""

from __future__ import annotations

from fastapi import APIRouter

from services.identification.campaigns.lookup import CampaignInScope
from services.identification.spot_checks.drawing import draw_spot_check
from services.identification.spot_checks.results import record_results
from services.identification.spot_checks.schemas import (
    SpotCheckIn,
    SpotCheckList,
    SpotCheckOut,
    SpotCheckResultsIn,
    SpotCheckSummaryOut,
)
from services.identification.spot_checks.views import (
    SpotCheckInCampaign,
    list_spot_checks,
    spot_check_view,
)
from shared import clock
from shared.auth import CountyStaff, Staff
from shared.db import SessionDep

router = APIRouter(tags=["screening"])

_PATH = "/campaigns/{campaign_id}/spot_checks"


@router.post(
    _PATH,
    status_code=201,
    response_model=SpotCheckOut,
    summary="Draw a cross-screening or spot-check sample (county staff)",
)
async def post_spot_check(
    principal: CountyStaff, body: SpotCheckIn, campaign: CampaignInScope, session: SessionDep
) -> SpotCheckOut:
    # `principal` first: a role that may never draw gets 403 before the scope's 404.
    return await draw_spot_check(
        session, campaign=campaign, principal=principal, kind=body.kind, seed=body.seed
    )


@router.get(_PATH, response_model=SpotCheckList, summary="The campaign's samples (staff)")
async def get_spot_checks(
    principal: Staff, campaign: CampaignInScope, session: SessionDep
) -> SpotCheckList:
    rows = await list_spot_checks(session, campaign=campaign, principal=principal)
    return SpotCheckList(
        items=[SpotCheckSummaryOut.model_validate(row, from_attributes=True) for row in rows]
    )


@router.get(
    _PATH + "/{spot_check_id}",
    response_model=SpotCheckOut,
    summary="A sample with its checked households and the differences found (staff)",
)
async def get_spot_check(
    principal: Staff,
    campaign: CampaignInScope,
    spot_check: SpotCheckInCampaign,
    session: SessionDep,
) -> SpotCheckOut:
    return await spot_check_view(
        session, campaign=campaign, spot_check=spot_check, principal=principal
    )


@router.post(
    _PATH + "/{spot_check_id}/results",
    response_model=SpotCheckOut,
    summary="Record checkers' findings for sampled households (staff in scope)",
    responses={422: {"description": "Some record breaks a rule; nothing was stored"}},
)
async def post_results(
    principal: Staff,
    body: SpotCheckResultsIn,
    campaign: CampaignInScope,
    spot_check: SpotCheckInCampaign,
    session: SessionDep,
) -> SpotCheckOut:
    return await record_results(
        session,
        campaign=campaign,
        spot_check=spot_check,
        records=body.records,
        principal=principal,
        now=clock.now(),
    )
