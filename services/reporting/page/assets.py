"""How the reporting pages (the dashboard, the to-do page) serve their static
assets: no token, a self-only Content-Security-Policy (no CDN, no inline
script), and an ETag revalidated on every load (`no-cache`) so a new release
shows at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated

from fastapi import Header, Response

# The pages' own policy: scripts, styles, images and requests from this origin only.
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
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def make_asset(body: bytes, media_type: str) -> Asset:
    """A page asset with its ETag."""
    return Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


@cache
def package_file(package: str, name: str) -> Asset:
    """The file `name` of `package` (an .html, .js or .css), read once."""
    body = resources.files(package).joinpath(name).read_bytes()
    return make_asset(body, MEDIA_TYPES[name.rsplit(".", 1)[-1]])


def serve_asset(asset: Asset, if_none_match: str | None) -> Response:
    """`asset` with the page's security headers, or 304 when the client has it."""
    headers = SECURITY_HEADERS | {"ETag": asset.etag}
    if if_none_match is not None and asset.etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


IfNoneMatch = Annotated[str | None, Header(include_in_schema=False)]
