"""`GET /page.js`: the shell the reporting pages share (the token, the login
form, the messages, authorised requests and the error texts), loaded by the
dashboard and the to-do page before their own scripts."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.reporting.page.assets import IfNoneMatch, package_file, serve_asset

router = APIRouter(tags=["dashboard"])


@router.get("/page.js", include_in_schema=False)
async def page_script(if_none_match: IfNoneMatch = None) -> Response:
    return serve_asset(package_file("services.reporting.page", "page.js"), if_none_match)
