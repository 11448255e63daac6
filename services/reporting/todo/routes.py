"""The staff to-do list (待办事项): `GET /worklist` (JSON, staff in scope; a
viewer gets 403) and `GET /todo`, the page that shows it with the staff
member's token, served like the dashboard (no data in the page, a
self-only Content-Security-Policy, revalidated by ETag)."""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from services.reporting.page.assets import (
    Asset,
    IfNoneMatch,
    make_asset,
    package_file,
    serve_asset,
)
from services.reporting.todo.schemas import Todo
from services.reporting.todo.worklist import worklist
from shared import catalog, clock
from shared.auth import Staff, scope_region
from shared.catalog import REGION_LEVEL_LABELS
from shared.db import SessionDep
from shared.errors import invalid
from shared.gaps import GAP_KIND_LABELS
from shared.regions import is_well_formed

router = APIRouter(tags=["to-do"])

DEFAULT_LIMIT, MAX_LIMIT = 5, 50
REQUEST_KIND_LABELS = {"rollback": "风险消除回退", "removal": "清退"}


@router.get(
    "/worklist",
    response_model=Todo,
    summary="Staff to-do list per village: overdue and due-soon cases, gaps, pending"
    " requests, problems past due (staff in scope)",
)
async def get_worklist(
    session: SessionDep,
    principal: Staff,
    region: Annotated[
        str | None, Query(description="12-digit region code; default your scope")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Items per village and section")
    ] = DEFAULT_LIMIT,
) -> dict[str, Any]:
    if region is not None and not is_well_formed(region):
        raise invalid("region", "invalid_region_code", "region must be a 12-digit region code")
    scope = scope_region(principal, region)
    return await worklist(session, region_code=scope, today=clock.today(), limit=limit)


def _file(name: str) -> Asset:
    return package_file("services.reporting.todo", name)


def todo_labels() -> dict[str, Any]:
    """The labels the to-do page shows, code -> Chinese label."""
    return {
        "case_sources": dict(catalog.CASE_SOURCES),
        "gap_kinds": dict(GAP_KIND_LABELS),
        "request_kinds": dict(REQUEST_KIND_LABELS),
        "problem_types": dict(catalog.PROBLEM_TYPES),
        "levels": dict(REGION_LEVEL_LABELS),
    }


@cache
def _labels() -> Asset:
    body = json.dumps(todo_labels(), ensure_ascii=False, separators=(",", ":"))
    return make_asset(body.encode(), "application/json")


@router.get("/todo", summary="The staff to-do page (no token: it asks for one)")
async def todo_page(if_none_match: IfNoneMatch = None) -> Response:
    return serve_asset(_file("index.html"), if_none_match)


@router.get("/todo/todo.js", include_in_schema=False)
async def todo_script(if_none_match: IfNoneMatch = None) -> Response:
    return serve_asset(_file("todo.js"), if_none_match)


@router.get("/todo/todo.css", include_in_schema=False)
async def todo_style(if_none_match: IfNoneMatch = None) -> Response:
    return serve_asset(_file("todo.css"), if_none_match)


@router.get("/todo/labels.json", summary="The labels the to-do page shows")
async def todo_labels_json(if_none_match: IfNoneMatch = None) -> Response:
    return serve_asset(_labels(), if_none_match)
