"""Monitoring objects (监测对象): the list, one object, and removal (清退)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from services.identification.objects.ledger import OBJECTS_LEDGER, objects_query
from services.identification.objects.monitoring_objects import (
    ObjectInScope,
    list_objects,
    remove_directly,
)
from services.identification.objects.schemas import (
    MonitoringObjectOut,
    MonitoringObjectPage,
    RemovalIn,
)
from shared import clock
from shared.auth import CountyStaff, Staff, scope_region
from shared.db import SessionDep
from shared.ledgers import LEDGER_RESPONSES, Export, SnapshotSession, export_ledger
from shared.pagination import PageDep

router = APIRouter(tags=["monitoring objects"])


@router.get(
    "/monitoring_objects",
    response_model=MonitoringObjectPage,
    summary="Monitoring objects in your region, newest inclusion first (staff)",
)
async def get_objects(
    session: SessionDep,
    principal: Staff,
    page: PageDep,
    region: Annotated[
        str | None, Query(description="12-digit region code; default your scope")
    ] = None,
    status: Annotated[
        str | None, Query(description="risk_not_eliminated | risk_eliminated | removed")
    ] = None,
    monitoring_type: Annotated[
        str | None, Query(alias="type", description="A monitoring type code")
    ] = None,
) -> MonitoringObjectPage:
    items, next_cursor = await list_objects(
        session,
        region_code=scope_region(principal, region),
        status=status,
        monitoring_type=monitoring_type,
        cursor=page.cursor,
        limit=page.limit,
    )
    return MonitoringObjectPage(
        items=[MonitoringObjectOut.model_validate(row, from_attributes=True) for row in items],
        next_cursor=next_cursor,
    )


# Declared before /monitoring_objects/{object_id}.
@router.get(
    "/monitoring_objects/export",
    response_class=StreamingResponse,
    responses=LEDGER_RESPONSES,
    summary="The monitoring-object ledger (监测对象台账) with its measures, as CSV or XLSX (staff)",
)
async def export_objects(
    snapshot: SnapshotSession,
    session: SessionDep,
    options: Export,
    region: Annotated[
        str | None, Query(description="12-digit region code; default your scope")
    ] = None,
    status: Annotated[
        str | None, Query(description="risk_not_eliminated | risk_eliminated | removed")
    ] = None,
    monitoring_type: Annotated[
        str | None, Query(alias="type", description="A monitoring type code")
    ] = None,
) -> StreamingResponse:
    region_code = scope_region(options.principal, region)
    today = clock.today()
    query = objects_query(
        region_code=region_code,
        today=today,
        status=status,
        monitoring_type=monitoring_type,
        reveal=options.reveal,
    )
    return await export_ledger(
        session,
        snapshot,
        ledger=OBJECTS_LEDGER,
        query=query,
        options=options,
        region_code=region_code,
        filters={"status": status, "type": monitoring_type},
        today=today,
    )


@router.get(
    "/monitoring_objects/{object_id}",
    response_model=MonitoringObjectOut,
    summary="One monitoring object (staff in scope)",
)
async def get_one_object(obj: ObjectInScope) -> MonitoringObjectOut:
    return MonitoringObjectOut.model_validate(obj, from_attributes=True)


@router.post(
    "/monitoring_objects/{object_id}/removal",
    response_model=MonitoringObjectOut,
    summary="Remove (清退) a monitoring object (county staff)",
    responses={
        409: {
            "description": "The object is already removed (already_removed), a request is"
            " pending (request_pending), or the policy's chain is longer (approval_required)"
        }
    },
)
async def post_removal(
    principal: CountyStaff, body: RemovalIn, obj: ObjectInScope, session: SessionDep
) -> MonitoringObjectOut:
    # `principal` first: a role that may never remove gets 403 before the scope's 404.
    removed = await remove_directly(
        session,
        obj=obj,
        reason=body.reason,
        approved_by=body.approved_by,
        actor=principal.actor,
        today=clock.today(),
    )
    return MonitoringObjectOut.model_validate(removed, from_attributes=True)
