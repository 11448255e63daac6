"""The staff to-do page in a real browser: headless Chromium (Debian's
`chromium`, driven by Playwright) against `warnex serve` with the hand-built
county of todo_dataset.py, moved to the server's today (it runs on the real
clock), so that every section has items.

Every `[data-figure]` on the page must equal the JSON `GET /worklist` answers
for the same token, and every item's link must be the JSON's `href`, in order.
Screenshots go to tests/artifacts/ (git-ignored). Skipped, visibly, where
/usr/bin/chromium is missing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from shared import clock
from shared.db import Database
from tests.services.reporting.browser_support import (
    ARTIFACTS,
    CHROMIUM,
    READY,
    chromium,
    serving,
    watched_page,
)
from tests.services.reporting.todo.todo_dataset import (
    COUNTY,
    HOUSEHOLD_IDS,
    NAMES,
    TOWN_B,
    VILLAGE_B1,
    load_todo_dataset_on,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no Chromium at /usr/bin/chromium: the to-do page browser test needs Debian's "
    "`chromium` package (apt-get install chromium; .ci/run installs it)",
)
async_api = pytest.importorskip(
    "playwright.async_api", reason="the `playwright` package (test extras) is not installed"
)

SECTIONS = ("overdue_cases", "due_soon_cases", "gaps", "pending_requests", "overdue_problems")


@dataclass(frozen=True)
class Server:
    base_url: str
    tokens: dict[str, str]  # role -> token


async def _load_data(database_url: str) -> None:
    database = Database(database_url, pool_size=2)
    try:
        async with database.transaction() as session:
            await load_todo_dataset_on(session, clock.today())
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
async def server(server_uri: str, template_url: str, tmp_path_factory) -> AsyncIterator[Server]:
    """`warnex serve` on a fresh database with the data set; tokens of a county
    staff member, a township staff member of town B and a viewer."""
    users = [
        ("county_staff", COUNTY, "待办测试"),
        ("township_staff", TOWN_B, "待办测试"),
        ("viewer", COUNTY, "待办测试"),
    ]
    log_dir = tmp_path_factory.mktemp("todo")
    async with serving(server_uri, template_url, log_dir, load=_load_data, users=users) as (
        base_url,
        tokens,
    ):
        yield Server(base_url, tokens)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    async with chromium() as browser:
        yield browser


@pytest.fixture
async def page(browser):
    # The viewer's refusal is expected.
    async with watched_page(browser, expected_refusal="status of 403") as page:
        yield page


async def _json(server: Server, role: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.tokens[role]}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
        response = await client.get("/reporting/v1/worklist")
    assert response.status_code == 200, response.text
    return response.json()


def _expected(todo: dict[str, Any]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The figures the page must show, by data-figure, and its links in order."""
    figures = {f"totals.{s}": f"{n:,}" for s, n in todo["totals"].items()}
    links = []
    for village in todo["villages"]:
        for section in SECTIONS:
            key = f"villages.{village['region_code']}.{section}"
            if village[section]["total"]:
                figures[f"{key}.total"] = f"{village[section]['total']:,}"
            for i, item in enumerate(village[section]["items"]):
                links.append((f"{key}.{i}", item["href"]))
    return figures, links


async def _shown(page) -> tuple[dict[str, str], list[tuple[str, str]]]:
    pairs = await page.eval_on_selector_all(
        "[data-figure]", "els => els.map(e => [e.dataset.figure, e.textContent.trim()])"
    )
    figures = dict(pairs)
    assert len(figures) == len(pairs), "two elements carry the same data-figure"
    links = await page.eval_on_selector_all(
        "a[data-item]", "as => as.map(a => [a.dataset.item, a.getAttribute('href')])"
    )
    return figures, [(key, href) for key, href in links]


async def test_a_county_member_sees_every_village_to_do_as_the_json_says(server, page):
    await page.goto(f"{server.base_url}/reporting/v1/todo#token={server.tokens['county_staff']}")
    await page.wait_for_selector(f'{READY} #board[data-region="{COUNTY}"]', timeout=15_000)
    assert server.tokens["county_staff"] not in page.url

    todo = await _json(server, "county_staff")
    assert all(todo["totals"][s] > 0 for s in SECTIONS), todo["totals"]
    assert await _shown(page) == _expected(todo)
    villages = await page.eval_on_selector_all(
        "section[data-village]", "ss => ss.map(s => s.dataset.village)"
    )
    assert villages == [v["region_code"] for v in todo["villages"]]
    assert await page.text_content("#region-name") == "眉县"
    text = await page.text_content("body")
    assert text is not None
    for secret in [*HOUSEHOLD_IDS, *NAMES]:
        assert secret not in text, secret

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "todo.png", full_page=True)


async def test_a_township_member_sees_only_the_villages_of_the_town(server, page):
    await page.goto(f"{server.base_url}/reporting/v1/todo#token={server.tokens['township_staff']}")
    await page.wait_for_selector(f'{READY} #board[data-region="{TOWN_B}"]', timeout=15_000)
    todo = await _json(server, "township_staff")
    assert [v["region_code"] for v in todo["villages"]] == [VILLAGE_B1]
    assert await _shown(page) == _expected(todo)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "todo-town.png", full_page=True)


async def test_a_viewer_is_told_the_list_is_for_staff(server, page):
    await page.goto(f"{server.base_url}/reporting/v1/todo#token={server.tokens['viewer']}")
    await page.wait_for_selector('body[data-state="error"]', timeout=15_000)
    message = await page.text_content("#message")
    assert message is not None and "仅向工作人员显示" in message
    assert not await page.is_visible("#board")


async def test_the_dashboard_links_to_the_to_do_page(server, page):
    token = server.tokens["county_staff"]
    await page.goto(f"{server.base_url}/reporting/v1/dashboard#token={token}")
    await page.wait_for_selector(f'{READY} #board[data-region="{COUNTY}"]', timeout=15_000)
    await page.click('a[href="/reporting/v1/todo"]')
    await page.wait_for_selector(f'{READY} #board[data-region="{COUNTY}"]', timeout=15_000)
    assert urlsplit(page.url).path == "/reporting/v1/todo"


async def test_logging_out_asks_for_a_token_and_logging_in_shows_the_list_again(server, page):
    token = server.tokens["township_staff"]
    await page.goto(f"{server.base_url}/reporting/v1/todo#token={token}")
    await page.wait_for_selector(f'{READY} #board[data-region="{TOWN_B}"]', timeout=15_000)
    await page.click("#logout")
    await page.wait_for_selector('body[data-state="login"] #login:not([hidden])', timeout=15_000)
    assert await page.text_content("#message") == "已退出登录。"
    assert not await page.is_visible("#board")
    assert await page.evaluate("sessionStorage.length") == 0

    await page.fill("#login input[name=token]", token)
    await page.click("#login button")
    await page.wait_for_selector(f'{READY} #board[data-region="{TOWN_B}"]', timeout=15_000)
    assert not await page.is_visible("#message")
