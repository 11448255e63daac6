"""`GET /reporting/v1/page.js`: the shell the dashboard and the to-do page
share, served like their own assets. The pages' browser tests check that
both still behave as before on top of it."""

from __future__ import annotations

import re

import pytest

SCRIPT = "/reporting/v1/page.js"


async def test_the_shared_script_is_served_without_a_token_and_revalidates_by_etag(client):
    response = await client.get(SCRIPT)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy
    again = await client.get(SCRIPT, headers={"If-None-Match": response.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert "export function start(" in response.text
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", response.text)


@pytest.mark.parametrize(
    ("page", "script"),
    [
        ("/reporting/v1/dashboard", "/reporting/v1/dashboard/dashboard.js"),
        ("/reporting/v1/todo", "/reporting/v1/todo/todo.js"),
    ],
)
async def test_each_page_loads_the_shell_first_and_its_script_imports_it(client, page, script):
    html = (await client.get(page)).text
    scripts = re.findall(r'<script type="module" src="([^"]+)"', html)
    assert scripts == [SCRIPT, script]
    # Resolved against the page script's URL, the import is the very same module.
    assert 'from "../page.js";' in (await client.get(script)).text
