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

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from shared import catalog
from shared.catalog import FEED_STATE_LABELS, REGION_LEVEL_LABELS
from shared.feeds import FEED_STATES
from shared.regions import LEVEL_DIGITS

router = APIRouter(tags=["dashboard"])

# The page's own policy: scripts, styles, images and requests from this origin only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def make_asset(body: bytes, media_type: str) -> Asset:
    """A page asset with its ETag (the to-do page serves its own the same way)."""
    return Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


@cache
def _file(name: str) -> Asset:
    media_types = {
        "index.html": "text/html; charset=utf-8",
        "dashboard.js": "text/javascript; charset=utf-8",
        "dashboard.css": "text/css; charset=utf-8",
    }
    body = resources.files("services.reporting.dashboard").joinpath(name).read_bytes()
    return make_asset(body, media_types[name])


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


def serve_asset(asset: Asset, if_none_match: str | None) -> Response:
    """`asset` with the page's security headers, or 304 when the client has it."""
    headers = SECURITY_HEADERS | {"ETag": asset.etag}
    if if_none_match is not None and asset.etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


IfNoneMatch = Annotated[str | None, Header(include_in_schema=False)]


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
