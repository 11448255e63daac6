"""`GET /dashboard`: the reporting dashboard (统计看板), a static page and a small
script that call the JSON endpoints with the viewer's token.

The page and its assets carry no data and need no token: the script reads the
token from the URL fragment (never sent to the server) or a login box and sends
it as `Authorization: Bearer` with every figure request. Everything is served
from this app (a Content-Security-Policy of 'self' only: no CDN, no inline
script), revalidated by ETag on every load (`no-cache`) so a new release shows
at once. `labels.json` carries the catalog's Chinese labels, so the script
holds none of its own.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from fastapi import APIRouter, Response

from services.reporting.page.assets import (
    Asset,
    IfNoneMatch,
    make_asset,
    package_file,
    serve_asset,
)
from shared import catalog
from shared.catalog import FEED_STATE_LABELS, REGION_LEVEL_LABELS
from shared.feeds import FEED_STATES
from shared.regions import LEVEL_DIGITS

router = APIRouter(tags=["dashboard"])


def _file(name: str) -> Asset:
    return package_file("services.reporting.dashboard", name)


def dashboard_labels() -> dict[str, Any]:
    """The catalog's labels the dashboard shows, code -> Chinese label, in catalog order."""
    return {
        "departments": dict(catalog.DEPARTMENTS),
        "warning_types": {code: t.label for code, t in catalog.WARNING_TYPES.items()},
        "monitoring_types": dict(catalog.MONITORING_TYPES),
        "object_statuses": dict(catalog.OBJECT_STATUSES),
        "feed_states": {state: FEED_STATE_LABELS[state] for state in FEED_STATES},
        "levels": {level: REGION_LEVEL_LABELS[level] for level in LEVEL_DIGITS},
        "region_attributes": dict(catalog.REGION_ATTRIBUTES),
    }


@cache
def _labels() -> Asset:
    body = json.dumps(dashboard_labels(), ensure_ascii=False, separators=(",", ":"))
    return make_asset(body.encode(), "application/json")


@router.get("/dashboard", summary="The dashboard page (no token: it asks for one)")
async def dashboard_page(if_none_match: IfNoneMatch = None) -> Response:
    return serve_asset(_file("index.html"), if_none_match)


@router.get("/dashboard/dashboard.js", include_in_schema=False)
async def dashboard_script(if_none_match: IfNoneMatch = None) -> Response:
    return serve_asset(_file("dashboard.js"), if_none_match)


@router.get("/dashboard/dashboard.css", include_in_schema=False)
async def dashboard_style(if_none_match: IfNoneMatch = None) -> Response:
    return serve_asset(_file("dashboard.css"), if_none_match)


@router.get("/dashboard/labels.json", summary="The catalog labels the dashboard shows")
async def dashboard_labels_json(if_none_match: IfNoneMatch = None) -> Response:
    return serve_asset(_labels(), if_none_match)
