"""The dashboard in a real browser: headless Chromium (Debian's `chromium`, driven
by Playwright; no browser is ever downloaded) against `warnex serve` with data
(browser_support.py).

Every `[data-figure]` on the page must equal the JSON the endpoints answer for
the same token, formatted as the page formats it; so the assertions hold
whatever the server's clock says. Screenshots go to tests/artifacts/
(git-ignored). Skipped, visibly, where /usr/bin/chromium is missing.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.demo.load import load_demo
from shared.catalog import REGION_ATTRIBUTES
from shared.db import Database
from tests.services.reporting.browser_support import (
    ARTIFACTS,
    CHROMIUM,
    READY,
    chromium,
    serving,
    watched_page,
)

# Places of the demo county (眉县): its first town and that town's first village.
COUNTY = "610326000000"
TOWN_A = "610326100000"
VILLAGE_A1 = "610326100201"


pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no Chromium at /usr/bin/chromium: the dashboard browser test needs Debian's "
    "`chromium` package (apt-get install chromium; .ci/run installs it)",
)
async_api = pytest.importorskip(
    "playwright.async_api", reason="the `playwright` package (test extras) is not installed"
)


@dataclass(frozen=True)
class Server:
    base_url: str
    token: str


async def _load_data(database_url: str) -> None:
    """Fill the server's database with `warnex demo --size small`: weeks of
    pushes, cases in every state, objects, measures and a screening campaign."""
    database = Database(database_url, pool_size=2)
    try:
        await load_demo(database, seed=3, size="small")
    finally:
        await database.dispose()


@pytest.fixture(scope="module")
async def server(server_uri: str, template_url: str, tmp_path_factory) -> AsyncIterator[Server]:
    """`warnex serve` on a fresh database with data, and a viewer's token for 眉县."""
    users = [("viewer", COUNTY, "看板测试")]
    log_dir = tmp_path_factory.mktemp("dashboard")
    async with serving(server_uri, template_url, log_dir, load=_load_data, users=users) as (
        base_url,
        tokens,
    ):
        yield Server(base_url, tokens["viewer"])


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    async with chromium() as browser:
        yield browser


@pytest.fixture
async def page(browser):
    # A refused token is expected in one test.
    async with watched_page(browser, expected_refusal="status of 401") as page:
        yield page


# ---- the page's formatting, in Python -------------------------------------------


def _int(n: int) -> str:
    return f"{n:,}"


def _rate(x: float | None, decimals: int = 1) -> str:
    """As dashboard.js formatRate: a percentage with `decimals` places, half up."""
    if x is None:
        return "—"
    scaled = x * 10 ** (2 + decimals)
    n = math.floor(scaled)
    if scaled - n >= 0.5:
        n += 1
    digits = str(n).rjust(decimals + 1, "0")
    return f"{digits[:-decimals]}.{digits[-decimals:]}%"


def _days(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def _expected(
    overview: dict, rows: dict | None, flags: dict, feeds: dict, labels: dict
) -> dict[str, str]:
    """Every figure the page must show for these responses, by its data-figure."""
    cases = overview["cases"]
    want = {f"cases.{k}": _int(cases[k]) for k in ("decided_within_15_days", "decided")}
    want |= {f"cases.{k}": _int(cases[k]) for k in ("opened", "open", "overdue", "due_soon")}
    want["cases.within_15_days_rate"] = _rate(cases["within_15_days_rate"])
    want["cases.median_days_to_decision"] = _days(cases["median_days_to_decision"])
    want |= {f"feeds.{state}": _int(n) for state, n in overview["feeds"].items()}
    for group in ("by_type", "by_status"):
        for code, n in overview["monitoring_objects"][group].items():
            want[f"monitoring_objects.{group}.{code}"] = _int(n)
    for row in rows["items"] if rows else []:
        key, c = f"regions.{row['region_code']}.cases", row["cases"]
        want[f"{key}.within_15_days_rate"] = _rate(c["within_15_days_rate"])
        want |= {f"{key}.{k}": _int(c[k]) for k in ("open", "overdue", "due_soon")}
    for k in ("off_system_households", "should_include_households"):
        want[f"red_flags.{k}"] = _int(flags[k])
    for k in (
        "zero_object_villages",
        "high_ratio_regions",
        "no_alleviated_villages",
        "key_area_regions",
    ):
        want[f"red_flags.{k}.count"] = _int(len(flags[k]))
    for k in ("zero_object_villages", "no_alleviated_villages"):
        for v in flags[k]:
            want[f"red_flags.{k}.{v['region_code']}"] = v["region_name"]
    for a in flags["key_area_regions"]:
        key = f"red_flags.key_area_regions.{a['region_code']}"
        want[key] = a["region_name"]
        for attribute in a["attributes"]:
            want[f"{key}.{attribute}"] = labels["region_attributes"][attribute]
    for r in flags["high_ratio_regions"]:
        want[f"red_flags.high_ratio_regions.{r['region_code']}.ratio"] = _rate(r["ratio"], 2)
    for f in feeds["items"]:
        key = f"compliance.{f['department']}.{f['warning_type']}"
        if f["population"] != "all":  # a feed per population (high_medical_expense)
            key += f".{f['population']}"
        want[f"{key}.state"] = labels["feed_states"][f["state"]]
        want[f"{key}.on_time_rate"] = _rate(f["on_time_rate"])
        want[f"{key}.on_time_pushes"] = _int(f["on_time_pushes"])
        want[f"{key}.expected_pushes"] = _int(f["expected_pushes"])
    return want


async def _json(server: Server, region: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.token}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:

        async def get(path: str, **params: str) -> dict:
            response = await client.get(f"/reporting/v1{path}", params=params)
            assert response.status_code == 200, response.text
            return response.json()

        return {
            "overview": await get("/overview", region=region),
            "rows": None if region == VILLAGE_A1 else await get("/regions", region=region),
            "flags": await get("/red_flags", region=region),
            "feeds": await get("/feeds", region=region),
            "labels": await get("/dashboard/labels.json"),
        }


async def _figures(page) -> dict[str, str]:
    pairs = await page.eval_on_selector_all(
        "[data-figure]", "els => els.map(e => [e.dataset.figure, e.textContent.trim()])"
    )
    figures = dict(pairs)
    assert len(figures) == len(pairs), "two elements carry the same data-figure"
    return figures


async def _rows(page) -> list[tuple[str, str]]:
    rows = await page.eval_on_selector_all(
        "#region-rows tr[data-region]",
        "trs => trs.map(tr => [tr.dataset.region, tr.querySelector('th').textContent.trim()])",
    )
    return [(code, name) for code, name in rows]


def _shown(page, region: str) -> str:
    return f'{READY} #board[data-region="{region}"]'


async def test_the_county_page_shows_the_figures_of_the_json(server, page):
    await page.goto(f"{server.base_url}/reporting/v1/dashboard#token={server.token}")
    await page.wait_for_selector(_shown(page, COUNTY), timeout=15_000)
    assert server.token not in page.url  # the token left the address bar at once

    data = await _json(server, COUNTY)
    figures = await _figures(page)
    assert figures == _expected(**data)
    assert await _rows(page) == [
        (r["region_code"], r["region_name"]) for r in data["rows"]["items"]
    ]
    assert await page.text_content("#region-name") == data["overview"]["region_name"]
    cells = await page.eval_on_selector_all(
        ".cell[data-state]", "cs => cs.map(c => c.dataset.state)"
    )
    assert cells == [f["state"] for f in data["feeds"]["items"]]

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)


async def test_the_county_page_lists_villages_without_alleviated_households_and_key_areas(
    server, page
):
    """SPEC §12's red flags: the demo has a village without a poverty-alleviated
    household and key areas, shown by name, each attribute by its Chinese label."""
    await page.goto(f"{server.base_url}/reporting/v1/dashboard#token={server.token}")
    await page.wait_for_selector(_shown(page, COUNTY), timeout=15_000)
    flags = (await _json(server, COUNTY))["flags"]
    villages = flags["no_alleviated_villages"]
    assert villages  # the demo's village without one, and any small village by chance
    key_areas = flags["key_area_regions"]
    assert {a for area in key_areas for a in area["attributes"]} == set(REGION_ATTRIBUTES)

    figures = await _figures(page)
    assert figures["red_flags.no_alleviated_villages.count"] == str(len(villages))
    assert figures["red_flags.key_area_regions.count"] == str(len(key_areas))
    chips = await page.eval_on_selector_all(
        "#no-alleviated-villages a", "as => as.map(a => [a.getAttribute('href'), a.textContent])"
    )
    assert chips == [[f"#region={v['region_code']}", v["region_name"]] for v in villages]
    rows = await page.eval_on_selector_all(
        "#key-areas tr",
        "trs => trs.map(tr => [tr.querySelector('th').textContent,"
        " [...tr.querySelectorAll('.tag')].map(t => t.textContent)])",
    )
    assert rows == [
        [a["region_name"], [REGION_ATTRIBUTES[x] for x in a["attributes"]]] for a in key_areas
    ]
    flags_panel = page.locator("section.flags")
    await flags_panel.screenshot(path=ARTIFACTS / "dashboard-red-flags.png")

    # A key area's name drills down to it.
    first = key_areas[0]["region_code"]
    await page.click(f'#key-areas a[href="#region={first}"]')
    await page.wait_for_selector(_shown(page, first), timeout=15_000)


async def test_clicking_a_town_drills_down_to_its_villages_and_back_goes_up(server, page):
    await page.goto(f"{server.base_url}/reporting/v1/dashboard#token={server.token}")
    await page.wait_for_selector(_shown(page, COUNTY), timeout=15_000)

    await page.click(f'#region-rows tr[data-region="{TOWN_A}"] td.bar-col')
    await page.wait_for_selector(_shown(page, TOWN_A), timeout=15_000)
    assert page.url.endswith(f"#region={TOWN_A}")

    data = await _json(server, TOWN_A)
    assert await _figures(page) == _expected(**data)
    villages = await _rows(page)
    assert villages == [(r["region_code"], r["region_name"]) for r in data["rows"]["items"]]
    assert villages and all(code.startswith(TOWN_A[:9]) for code, _ in villages)
    breadcrumb = await page.text_content("#breadcrumb")
    assert breadcrumb is not None
    assert breadcrumb.split("›") == ["眉县", data["overview"]["region_name"]]
    await page.screenshot(path=ARTIFACTS / "dashboard-town.png", full_page=True)

    await page.go_back()
    await page.wait_for_selector(_shown(page, COUNTY), timeout=15_000)


async def test_a_wrong_token_asks_for_a_token_again_in_chinese(server, page):
    await page.goto(f"{server.base_url}/reporting/v1/dashboard#token=wx_not-a-real-token")
    await page.wait_for_selector('body[data-state="login"] #login:not([hidden])', timeout=15_000)
    message = await page.text_content("#message")
    assert message is not None and "令牌无效" in message
    assert await page.evaluate("sessionStorage.length") == 0
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "dashboard-login.png")

    await page.fill("#login input[name=token]", server.token)
    await page.click("#login button")
    await page.wait_for_selector(_shown(page, COUNTY), timeout=15_000)


async def test_a_link_to_a_village_shows_its_figures_under_the_whole_breadcrumb(server, page):
    await page.goto(f"{server.base_url}/reporting/v1/dashboard#token={server.token}")
    await page.wait_for_selector(_shown(page, COUNTY), timeout=15_000)
    # A fresh load of a deep link: the page has seen no name below the county yet.
    await page.goto(f"{server.base_url}/reporting/v1/dashboard#region={VILLAGE_A1}")
    await page.reload()
    await page.wait_for_selector(_shown(page, VILLAGE_A1), timeout=15_000)

    data = await _json(server, VILLAGE_A1)
    assert await _figures(page) == _expected(**data)
    assert await _rows(page) == []
    assert await page.is_visible("#no-children")
    breadcrumb = await page.text_content("#breadcrumb")
    assert breadcrumb is not None
    town = (await _json(server, TOWN_A))["overview"]["region_name"]
    assert breadcrumb.split("›") == ["眉县", town, data["overview"]["region_name"]]
