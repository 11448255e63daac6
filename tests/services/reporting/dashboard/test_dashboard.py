"""`GET /reporting/v1/dashboard`: the page, its assets and its labels, in process.

The browser test (test_dashboard_browser.py) checks what the page shows."""

from __future__ import annotations

import re

import pytest

from shared import catalog
from shared.feeds import FEED_STATES

PAGE = "/reporting/v1/dashboard"
ASSETS = {
    f"{PAGE}/dashboard.js": "text/javascript",
    f"{PAGE}/dashboard.css": "text/css",
    f"{PAGE}/labels.json": "application/json",
}
ENDPOINTS = ("overview", "regions", "feeds", "red_flags")


def _assert_safe_headers(response) -> None:
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    for directive in ("script-src", "style-src", "connect-src"):
        assert directives[directive] == "'self'", directive
    assert "unsafe" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"]


async def test_the_page_is_served_without_a_token_with_a_self_only_policy(client):
    response = await client.get(PAGE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    _assert_safe_headers(response)
    html = response.text
    assert '<html lang="zh-CN">' in html
    assert "统计看板" in html


async def test_the_page_names_every_endpoint_it_reads(client):
    html = (await client.get(PAGE)).text
    for endpoint in ENDPOINTS:
        assert f'data-source="/reporting/v1/{endpoint}"' in html, endpoint
    assert 'data-labels="/reporting/v1/dashboard/labels.json"' in html


@pytest.mark.parametrize(("path", "media_type"), ASSETS.items())
async def test_each_asset_is_served_without_a_token_and_revalidates_by_etag(
    client, path, media_type
):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    _assert_safe_headers(response)
    again = await client.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    changed = await client.get(path, headers={"If-None-Match": '"not-this-one"'})
    assert changed.status_code == 200
    assert changed.content == response.content


async def test_every_script_and_style_the_page_links_is_served_from_this_app(client):
    html = (await client.get(PAGE)).text
    linked = re.findall(r'(?:src|href)="([^"]+)"', html)
    local = [url for url in linked if not url.startswith("data:")]
    assert {f"{PAGE}/dashboard.js", f"{PAGE}/dashboard.css"} <= set(local)
    for url in local:
        assert url.startswith("/reporting/v1/"), url
        assert (await client.get(url)).status_code == 200, url


async def test_nothing_is_loaded_from_another_origin(client):
    for path in (PAGE, f"{PAGE}/dashboard.js", f"{PAGE}/dashboard.css"):
        text = (await client.get(path)).text
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(", text), path


async def test_the_labels_are_the_catalogs(client):
    labels = (await client.get(f"{PAGE}/labels.json")).json()
    assert labels["departments"] == catalog.DEPARTMENTS
    assert labels["warning_types"] == {c: t.label for c, t in catalog.WARNING_TYPES.items()}
    assert labels["monitoring_types"] == catalog.MONITORING_TYPES
    assert labels["object_statuses"] == catalog.OBJECT_STATUSES
    assert labels["region_attributes"] == catalog.REGION_ATTRIBUTES
    assert list(labels["feed_states"]) == list(FEED_STATES)
    assert labels["feed_states"]["late"] == "逾期未推送"
    assert list(labels["levels"]) == ["province", "city", "county", "town", "village"]


async def test_the_script_holds_no_catalog_label_of_its_own(client):
    script = (await client.get(f"{PAGE}/dashboard.js")).text
    labels = [
        *catalog.DEPARTMENTS.values(),
        *(t.label for t in catalog.WARNING_TYPES.values()),
        *catalog.MONITORING_TYPES.values(),
        *catalog.OBJECT_STATUSES.values(),
    ]
    assert [label for label in labels if label in script] == []


async def test_the_figures_still_need_a_token(client):
    for endpoint in ENDPOINTS:
        response = await client.get(f"/reporting/v1/{endpoint}")
        assert response.status_code == 401, endpoint
