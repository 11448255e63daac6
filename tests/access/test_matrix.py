"""The access matrix: every endpoint answers every kind of caller as API.md says.

The table below is written from the contract (API.md: Conventions, "Roles for
reads", each endpoint's role note; SPEC §9), not from the code. Each row maps
one (method, path template) to the status class every caller must get:

    "401"  no token, or a token nobody issued
    "403"  a known token without the right (role or kind)
    "404"  the right role, but the resource lies outside the caller's scope
    "ok"   past authentication and authorisation: 2xx, or a 4xx about the
           body (400, 409, 422), never 401, 403 or 404

A caller lacking the role gets 403 whatever the resource's place: the role
check says nothing about where the resource lies. `test_every_route_has_a_row`
walks the four mounted apps, so a new endpoint cannot escape the table.

The world: county 610326 with town A (villages 100201 and 100202) and town B
(village 101201), one household per village at least; everything the rows
touch lies in village 610326100201 ("in scope"); the out-of-scope callers sit
in town B, its village, or county 610327.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.app import SERVICES
from services.warning_ingest.webhooks.subscriptions import subscribe
from shared import clock
from shared.auth import issue_token
from shared.settings import get_settings
from tests.access.matrix_callers import CALLERS, NOW, PUSHER, ROLE_OF, SCOPE_OF, TODAY, Row
from tests.access.matrix_rows import AS, HOOKS, ID, IG, ROWS
from tests.services.assistance.assist_helpers import add_object
from tests.services.identification.ledger_helpers import add_problem
from tests.services.identification.screening_helpers import (
    PHASES,
    TOWN,
    VILLAGE,
    load_registry,
)
from tests.services.warning_ingest.ingest_helpers import record
from tests.services.warning_ingest.webhooks.webhook_helpers import add_delivery

# Routes that are infrastructure, not API: no row, no token needed.
INFRA_SUFFIXES = ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")
INFRA_NAMES = ("/healthz", "/readyz", "/metrics")
# Static pages and their assets (no data, no token): the dashboard, the to-do
# page and the script both load.
PAGE_ASSETS = ("/reporting/v1/dashboard", "/reporting/v1/todo", "/reporting/v1/page.js")


def _walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, included routers opened up."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _walk(inner.routes, prefix + route.include_context.prefix)
        elif getattr(route, "methods", None):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, prefix + route.path
        else:  # a mount or anything else this walk cannot see inside
            yield "?", prefix + str(getattr(route, "path", route))


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every API route of the four mounted services."""
    found: set[tuple[str, str]] = set()
    for name, sub in app.state.services.items():
        for method, path in _walk(list(sub.routes), SERVICES[name][0]):
            if path.endswith(INFRA_SUFFIXES + INFRA_NAMES) or path.startswith(PAGE_ASSETS):
                continue
            found.add((method, path))
    return found


def test_every_route_has_a_row_and_every_row_a_route(app: FastAPI) -> None:
    routes = api_routes(app)
    rows = {(row.method, row.path) for row in ROWS}
    assert len(routes) > 50  # the walk saw the routers
    assert sorted(routes - rows) == [], "routes missing from the access matrix"
    assert sorted(rows - routes) == [], "rows naming no route"


def test_every_row_names_every_caller() -> None:
    for row in ROWS:
        assert set(row.expect) == set(CALLERS), row.id


async def _token(session: AsyncSession, caller: str) -> str:
    if caller.startswith("client:"):
        department = caller.split(":", 1)[1]
        _, token = await issue_token(session, kind="client", name=department, department=department)
        return token
    _, token = await issue_token(
        session, kind="user", name=caller, role=ROLE_OF[caller], region_code=SCOPE_OF[caller]
    )
    return token


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


@pytest.fixture(autouse=True)
def _webhook_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "webhook_allowed_hosts", HOOKS)


@pytest.fixture
async def world(client: httpx.AsyncClient, session: AsyncSession) -> dict[str, Any]:
    """The seeded county, one token per caller, and the ids the rows fill in."""
    await load_registry(session)  # H-1..H-3 in VILLAGE, H-6/H-7 in town B, ...
    headers = {c: {"Authorization": f"Bearer {await _token(session, c)}"} for c in CALLERS[2:]}
    headers["none"] = {}
    headers["unknown"] = {"Authorization": "Bearer wx_nobody-issued-this-token"}
    county = headers["county_in"]

    # H-1's head is person(100): a serious illness pushed for them is matched.
    receipt = await _ok(
        await client.post(
            IG + "/batches",
            json={"records": [record(100, "serious_illness", source_record_id="M-1")]},
            headers=headers[f"client:{PUSHER}"],
        )
    )
    case = await _ok(
        await client.post(
            ID + "/cases",
            json={
                "household_id": "H-1",
                "source": "self_report",
                "found_on": TODAY,
                "description": "家中突发变故",
                "risk_types": ["illness"],
            },
            headers=county,
        )
    )
    # A person nobody registered, pushed with the village's code: unmatched there.
    unmatched = await _ok(
        await client.post(
            IG + "/batches",
            json={"records": [record(900, "dibao", source_record_id="U-1", region_code=VILLAGE)]},
            headers=headers["client:civil_affairs"],
        )
    )
    object_id = await add_object(session, "H-2", region=VILLAGE)
    eliminated_id = await add_object(session, "H-3", region=VILLAGE, status="risk_eliminated")
    # H-1's earlier object, eliminated: its removal is asked and pending.
    requested_id = await add_object(session, "H-1", region=VILLAGE, status="risk_eliminated")
    request = await _ok(
        await client.post(
            ID + f"/monitoring_objects/{requested_id}/requests",
            json={"kind": "removal", "reason": "识别有误", "requested_on": TODAY},
            headers=county,
        )
    )
    measure = await _ok(
        await client.post(
            AS + "/measures",
            json={"object_id": str(object_id), "category": "industry", "planned_on": TODAY},
            headers=county,
        )
    )
    campaign = await _ok(
        await client.post(
            ID + "/campaigns",
            json={"name": "2026年集中排查", "region_code": TOWN, "year": 2026, "phases": PHASES},
            headers=county,
        )
    )
    sample = await _ok(
        await client.post(
            ID + f"/campaigns/{campaign['campaign_id']}/spot_checks",
            json={"kind": "spot", "seed": 7},
            headers=county,
        )
    )
    problem_id = await add_problem(session, VILLAGE)
    hook = await subscribe(session, department=PUSHER, url=f"https://{HOOKS}/", actor="test")
    delivery_id = await add_delivery(session, hook["subscription_id"])
    return {
        "headers": headers,
        "ids": {
            "batch_id": receipt["batch_id"],
            "warning_id": receipt["records"][0]["warning_id"],
            "case_id": case["case_id"],
            "object_id": str(object_id),
            "eliminated_id": str(eliminated_id),
            "unmatched_id": unmatched["records"][0]["warning_id"],
            "measure_id": measure["measure_id"],
            "campaign_id": campaign["campaign_id"],
            "spot_check_id": sample["spot_check_id"],
            "problem_id": str(problem_id),
            "request_id": request["request_id"],
            "household_id": "H-1",
            "subscription_id": str(hook["subscription_id"]),
            "delivery_id": str(delivery_id),
            "monitored_household_id": "H-2",
        },
    }


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def status_class(status: int) -> str:
    if status in (401, 403, 404):
        return str(status)
    if 200 <= status < 300 or status in (400, 409, 422):
        return "ok"
    return str(status)


def _param(row: Row) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=row.xfail)] if row.xfail else []
    return pytest.param(row, id=row.id, marks=marks)


@pytest.mark.parametrize("row", [_param(row) for row in ROWS])
async def test_each_caller_gets_the_status_api_md_gives(
    row: Row, client: httpx.AsyncClient, session: AsyncSession, world: dict[str, Any]
) -> None:
    ids = {**world["ids"], **{k: world["ids"][v] for k, v in row.use.items()}}
    url = _fill(row.path, ids)
    query = _fill(row.query, ids)
    body = _fill(row.body, ids)
    got: dict[str, str] = {}
    statuses: dict[str, int] = {}
    unaudited: list[str] = []
    for caller in CALLERS:
        # Each caller meets the same world: what one call writes is undone.
        savepoint = await session.begin_nested()
        try:
            last_event = await session.scalar(text("SELECT coalesce(max(id), 0) FROM events"))
            response = await client.request(
                row.method, url, params=query, json=body, headers=world["headers"][caller]
            )
            changed = await session.scalar(
                text("SELECT count(*) FROM events WHERE id > :last"), {"last": last_event}
            )
            if changed:
                # Every change (each writes its event) leaves an audit row with
                # its actor and request id; a write that changed nothing need not.
                audited = await session.scalar(
                    text(
                        "SELECT count(*) FROM audit_log"
                        " WHERE request_id = :request_id AND actor <> '' AND action <> ''"
                    ),
                    {"request_id": response.headers["x-request-id"]},
                )
                if not audited:
                    unaudited.append(caller)
        finally:
            await savepoint.rollback()
        statuses[caller] = response.status_code
        got[caller] = status_class(response.status_code)
    wrong = {c: (row.expect[c], statuses[c]) for c in CALLERS if got[c] != row.expect[c]}
    assert wrong == {}, f"{row.id}: caller -> (expected, got status)"
    assert unaudited == [], f"{row.id}: writes without an audit row"
    # The bodies are good enough that some allowed caller really succeeds.
    allowed = [statuses[c] for c in CALLERS if row.expect[c] == "ok"]
    if row.rule:
        assert set(allowed) <= {409, 422}, (row.rule, statuses)
    else:
        assert any(200 <= s < 300 for s in allowed), statuses
