"""`GET /reporting/v1/todo`: the to-do page, its assets and its labels, in
process. The browser test (test_todo_browser.py) checks what the page shows."""

from __future__ import annotations

import re

import pytest

from shared import catalog
from shared.gaps import GAP_KINDS
from shared.object_requests import KINDS as REQUEST_KINDS

PAGE = "/reporting/v1/todo"
ASSETS = {
    f"{PAGE}/todo.js": "text/javascript",
    f"{PAGE}/todo.css": "text/css",
    f"{PAGE}/labels.json": "application/json",
}


async def test_the_page_is_served_without_a_token_under_a_self_only_policy(client):
    response = await client.get(PAGE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe" not in policy
    assert response.headers["cache-control"] == "no-cache"
    html = response.text
    assert '<html lang="zh-CN">' in html and "待办事项" in html
    assert 'data-source="/reporting/v1/worklist"' in html


@pytest.mark.parametrize(("path", "media_type"), ASSETS.items())
async def test_each_asset_is_served_without_a_token_and_revalidates_by_etag(
    client, path, media_type
):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    again = await client.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")


async def test_everything_the_page_links_is_served_by_this_app(client):
    html = (await client.get(PAGE)).text
    linked = [u for u in re.findall(r'(?:src|href)="([^"]+)"', html) if not u.startswith("data:")]
    assert {f"{PAGE}/todo.js", f"{PAGE}/todo.css", "/reporting/v1/dashboard"} <= set(linked)
    for url in linked:
        assert url.startswith("/reporting/v1/"), url
        assert (await client.get(url)).status_code == 200, url
    for path in (PAGE, f"{PAGE}/todo.js", f"{PAGE}/todo.css"):
        text = (await client.get(path)).text
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(", text), path


async def test_the_dashboard_links_to_the_page(client):
    assert f'href="{PAGE}"' in (await client.get("/reporting/v1/dashboard")).text


async def test_the_labels_name_every_code_an_item_can_carry(client):
    labels = (await client.get(f"{PAGE}/labels.json")).json()
    assert labels["case_sources"] == catalog.CASE_SOURCES
    assert labels["problem_types"] == catalog.PROBLEM_TYPES
    assert list(labels["gap_kinds"]) == list(GAP_KINDS)
    assert list(labels["request_kinds"]) == list(REQUEST_KINDS)


async def test_the_list_still_needs_a_token(client):
    assert (await client.get("/reporting/v1/worklist")).status_code == 401
