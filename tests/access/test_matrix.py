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
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
from shared.catalog import DEPARTMENTS
from shared.settings import get_settings
from tests.services.assistance.assist_helpers import add_object
from tests.services.identification.ledger_helpers import add_problem, screening_record
from tests.services.identification.screening_helpers import (
    COUNTY,
    OTHER_TOWN,
    OTHER_TOWN_VILLAGE,
    PHASES,
    TOWN,
    VILLAGE,
    load_registry,
    screening,
)
from tests.services.warning_ingest.ingest_helpers import record
from tests.services.warning_ingest.webhooks.webhook_helpers import add_delivery

# 20 May 2026, 10:00 in Shanghai: inside the 2026 campaign, before its due dates.
NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
TODAY = "2026-05-20"
OTHER_COUNTY = "610327000000"
PUSHER = "health"

# Routes that are infrastructure, not API: no row, no token needed.
INFRA_SUFFIXES = ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")
INFRA_NAMES = ("/healthz", "/readyz", "/metrics")
DASHBOARD_ASSETS = "/reporting/v1/dashboard"

CLIENTS = tuple(f"client:{d}" for d in DEPARTMENTS)
STAFF_IN = ("village_in", "township_in", "county_in")
STAFF_OUT = ("village_out", "township_out", "county_out")
USERS = (*STAFF_IN, *STAFF_OUT, "viewer", "viewer_out", "admin")
CALLERS = ("none", "unknown", *CLIENTS, *USERS)
ROLE_OF = {
    "village_in": "village_staff",
    "village_out": "village_staff",
    "township_in": "township_staff",
    "township_out": "township_staff",
    "county_in": "county_staff",
    "county_out": "county_staff",
    "viewer": "viewer",
    "viewer_out": "viewer",
    "admin": "admin",
}
SCOPE_OF = {
    "village_in": VILLAGE,
    "village_out": OTHER_TOWN_VILLAGE,
    "township_in": TOWN,
    "township_out": OTHER_TOWN,
    "county_in": COUNTY,
    "county_out": OTHER_COUNTY,
    "viewer": COUNTY,
    "viewer_out": OTHER_COUNTY,
    "admin": COUNTY,
}


def _base(**granted: str) -> dict[str, str]:
    """Everyone refused (401 without a valid token, 403 with one), then `granted`."""
    table = {caller: "403" for caller in CALLERS}
    table["none"] = table["unknown"] = "401"
    table.update(granted)
    return table


def any_caller() -> dict[str, str]:
    """Catalog endpoints: any authenticated caller."""
    return _base(**{c: "ok" for c in (*CLIENTS, *USERS)})


def staff(*roles: str) -> dict[str, str]:
    """Staff with one of `roles`: allowed in scope, 404 out of it."""
    wanted = roles or ("village_staff", "township_staff", "county_staff")
    granted: dict[str, str] = {}
    for caller in (*STAFF_IN, *STAFF_OUT):
        if ROLE_OF[caller] in wanted:
            granted[caller] = "ok" if caller in STAFF_IN else "404"
    return _base(**granted)


def staff_anywhere(*roles: str) -> dict[str, str]:
    """Staff with one of `roles`, whatever their scope (the answer is about their own)."""
    wanted = roles or ("village_staff", "township_staff", "county_staff")
    return _base(**{c: "ok" for c in (*STAFF_IN, *STAFF_OUT) if ROLE_OF[c] in wanted})


def readers() -> dict[str, str]:
    """Reporting: viewers and staff, in scope; 404 out of it."""
    table = staff()
    table.update(viewer="ok", viewer_out="404")
    return table


def clients(**overrides: str) -> dict[str, str]:
    return _base(**{c: "ok" for c in CLIENTS}, **overrides)


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[str, str]
    variant: str = ""
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    xfail: str = ""
    # Why the world lets no caller succeed (steps out of order...): the allowed
    # callers then meet the domain rule (409/422), which still proves they are past
    # authorisation.
    rule: str = ""
    # Placeholders filled from another of the world's ids ({"object_id": "eliminated_id"}).
    use: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")


IG, ID, AS, RP = "/ingest/v1", "/identification/v1", "/assistance/v1", "/reporting/v1"
IN_VILLAGE = {"region": VILLAGE}

VISIT = {
    "visited_on": TODAY,
    "income_per_capita_yuan": 5200.5,
    "rigid_expenditure_yuan": 31000,
    "housing_secure": True,
    "education_secure": True,
    "medical_secure": False,
    "drinking_water_secure": True,
    "authorisation_signed": True,
    "eligible": True,
}
ASSESSMENT = {
    "assessed_on": TODAY,
    "kind": "routine",
    "income_per_capita_yuan": 9000,
    "rigid_expenditure_yuan": 0,
    "housing_secure": True,
    "education_secure": True,
    "medical_secure": True,
    "drinking_water_secure": True,
}
HOUSEHOLD_LOAD = {
    "households": [
        {
            "household_id": "H-1",
            "region_code": VILLAGE,
            "category": "general",
            "head_name": "张三",
            "members": [
                {
                    "id_number": "610326198001010011",
                    "name": "张三",
                    "relation": "head",
                    "labour_capacity": "full",
                }
            ],
        }
    ]
}
CASE = ID + "/cases/{case_id}"
OBJECT_ID = ID + "/monitoring_objects/{object_id}"
OBJECT_AS = AS + "/monitoring_objects/{object_id}"
CAMPAIGN = ID + "/campaigns/{campaign_id}"
SPOT = CAMPAIGN + "/spot_checks/{spot_check_id}"
SUBSCRIPTION = IG + "/subscriptions/{subscription_id}"
HOOKS = "hooks.example.test"
# A subscription is its department's: another department's client gets 404.
OWN_SUBSCRIPTION = _base(**{c: "404" for c in CLIENTS}) | {f"client:{PUSHER}": "ok"}
# An addition to API.md, by design: the administrator who issues client tokens
# also reads receipts and feed states, to see whether a department's system pushes.
ADMIN = "admin"

ROWS: list[Row] = [
    # warning_ingest
    Row("POST", IG + "/batches", clients(), body={"records": []}),
    Row(
        "GET",
        IG + "/batches/{batch_id}",
        # Another department's client: 404 (the receipt is not theirs).
        _base(
            **{c: "404" for c in CLIENTS},
            # A receipt spans the counties of the push: county staff only.
            **{c: "403" for c in (*STAFF_IN, *STAFF_OUT)},
        )
        | {f"client:{PUSHER}": "ok", ADMIN: "ok", "county_in": "ok", "county_out": "ok"},
    ),
    Row("GET", IG + "/warnings", staff(), query=IN_VILLAGE),
    Row("GET", IG + "/unmatched", staff(), query=IN_VILLAGE),
    Row("GET", IG + "/warnings/{warning_id}", staff()),
    Row(
        "POST",
        IG + "/warnings/{warning_id}/resolve",
        staff("county_staff"),
        use={"warning_id": "unmatched_id"},
        body={"action": "dismiss", "reason": "核实不属实"},
    ),
    Row(
        "GET",
        IG + "/feeds",
        _base(**{c: "ok" for c in (*CLIENTS, *STAFF_IN, *STAFF_OUT)}) | {ADMIN: "ok"},
    ),
    Row("GET", IG + "/catalog", any_caller()),
    Row("GET", IG + "/feedback", clients()),
    Row("POST", IG + "/subscriptions", clients(), body={"url": f"https://{HOOKS}/warnex"}),
    Row("GET", IG + "/subscriptions", clients()),
    Row("DELETE", SUBSCRIPTION, OWN_SUBSCRIPTION),
    # The policy's roster departments (shipped: medical insurance and civil affairs).
    Row(
        "GET",
        IG + "/roster",
        _base(**{"client:medical_insurance": "ok", "client:civil_affairs": "ok"}),
        query={"format": "ndjson"},
    ),
    Row("GET", SUBSCRIPTION + "/deliveries", OWN_SUBSCRIPTION),
    Row("POST", SUBSCRIPTION + "/deliveries/{delivery_id}/redeliver", OWN_SUBSCRIPTION),
    # A county load outside its county rejects the households in the answer
    # (like a screening upload), so county staff elsewhere are past the role check.
    Row(
        "POST",
        IG + "/registry/households",
        _base(county_in="ok", county_out="ok", admin="ok"),
        body=HOUSEHOLD_LOAD,
    ),
    Row(
        "POST",
        IG + "/registry/regions",
        _base(admin="ok"),
        body={"regions": [{"code": VILLAGE, "name": "第一村"}]},
    ),
    # identification
    Row("GET", ID + "/cases", staff(), query=IN_VILLAGE),
    Row(
        "POST",
        ID + "/cases",
        staff(),
        body={
            "household_id": "H-3",
            "source": "self_report",
            "found_on": TODAY,
            "description": "家中突发变故",
        },
    ),
    Row("GET", CASE, staff()),
    Row(
        "POST",
        CASE + "/steps/household_visit",
        staff("village_staff", "county_staff"),
        body=VISIT,
    ),
    Row(
        "POST",
        CASE + "/steps/village_review",
        staff("village_staff", "county_staff"),
        rule="the household visit is not recorded yet",
        body={
            "reviewed_on": TODAY,
            "notice_start": TODAY,
            "notice_end": "2026-05-24",
            "objections": False,
        },
    ),
    Row(
        "POST",
        CASE + "/steps/township_review",
        staff("township_staff", "county_staff"),
        rule="the village review is not recorded yet",
        body={"reviewed_on": TODAY, "approved": True},
    ),
    Row(
        "POST",
        CASE + "/steps/county_approval",
        staff("county_staff"),
        rule="the reviews are not recorded yet",
        body={
            "approved_on": TODAY,
            "comparison_waived": False,
            "outcome": "included",
            "monitoring_type": "marginal",
            "risk_types": ["illness"],
        },
    ),
    Row("POST", CASE + "/green_channel", staff("county_staff"), body={"reason": "突发重病"}),
    Row("GET", ID + "/monitoring_objects", staff(), query=IN_VILLAGE),
    Row("GET", OBJECT_ID, staff()),
    Row(
        "POST",
        OBJECT_ID + "/removal",
        staff("county_staff"),
        body={"reason": "识别有误", "approved_by": "县乡村振兴局"},
    ),
    Row("GET", ID + "/households/{household_id}", staff()),
    Row(
        "GET",
        ID + "/households/{household_id}",
        staff("county_staff"),
        variant="reveal",
        query={"reveal": "true"},
    ),
    Row(
        "POST",
        ID + "/campaigns",
        staff("county_staff"),
        body={"name": "2026年集中排查", "region_code": TOWN, "year": 2026, "phases": PHASES},
    ),
    Row("GET", ID + "/campaigns", staff_anywhere()),
    Row("GET", ID + "/campaigns/catalog", any_caller()),
    Row("GET", CAMPAIGN, staff()),
    Row(
        "PATCH",
        CAMPAIGN,
        staff("county_staff"),
        body={"reported_figures": {"staff_trained": 3}},
    ),
    Row("POST", CAMPAIGN + "/screenings", staff(), body={"records": [screening("H-1")]}),
    Row("GET", CAMPAIGN + "/coverage", staff()),
    Row("GET", CAMPAIGN + "/unscreened", staff()),
    Row("POST", CAMPAIGN + "/spot_checks", staff("county_staff"), body={"kind": "spot", "seed": 7}),
    Row("GET", CAMPAIGN + "/spot_checks", staff()),
    Row("GET", SPOT, staff()),
    Row("POST", SPOT + "/results", staff(), body={"records": [screening_record("H-1")]}),
    Row(
        "POST",
        ID + "/problems",
        staff(),
        body={
            "region_code": VILLAGE,
            "type": "data_quality",
            "description": "台账与系统不一致",
            "found_on": TODAY,
            "due_on": "2026-06-20",
            "responsible": "村委会",
        },
    ),
    Row(
        "PATCH",
        ID + "/problems/{problem_id}",
        staff(),
        body={"status": "rectified", "rectified_on": TODAY, "action": "已更正"},
    ),
    Row("GET", ID + "/problems/{problem_id}", staff()),
    Row("GET", ID + "/problems", staff(), query=IN_VILLAGE),
    # The county's audit trail (not in API.md; SPEC §9: county staff audit): the
    # caller's own county, so county staff anywhere see theirs.
    Row("GET", ID + "/audit", staff_anywhere("county_staff")),
    # assistance
    Row("GET", AS + "/catalog", any_caller()),
    Row(
        "POST",
        AS + "/measures",
        staff(),
        body={"object_id": "{object_id}", "category": "industry", "planned_on": TODAY},
    ),
    Row("GET", AS + "/measures/{measure_id}", staff()),
    Row(
        "PATCH",
        AS + "/measures/{measure_id}",
        staff(),
        body={"status": "in_progress", "started_on": TODAY},
    ),
    Row("GET", AS + "/measures", staff(), query=IN_VILLAGE),
    Row("GET", OBJECT_AS, staff()),
    Row("POST", OBJECT_AS + "/assessments", staff(), body=ASSESSMENT),
    Row("GET", OBJECT_AS + "/assessments", staff()),
    Row(
        "PUT",
        OBJECT_AS + "/flags",
        staff("county_staff"),
        body={"whole_household_no_labour": False},
    ),
    Row(
        "POST",
        OBJECT_AS + "/elimination",
        staff("county_staff"),
        rule="the object has no assessment and is monitored under 180 days",
        body={"decided_on": TODAY},
    ),
    Row(
        "POST",
        OBJECT_AS + "/rollback",
        staff("county_staff"),
        use={"object_id": "eliminated_id"},
        body={"reason": "因病返贫风险"},
    ),
    Row("GET", AS + "/gaps", staff(), query=IN_VILLAGE),
    # reporting: viewers and staff
    Row("GET", RP + "/overview", readers(), query=IN_VILLAGE),
    # Town A's villages: village staff of A1 do not cover the town (404).
    Row(
        "GET",
        RP + "/regions",
        {**readers(), "village_in": "404"},
        query={"region": TOWN, "level": "village"},
    ),
    Row("GET", RP + "/feeds", readers(), query=IN_VILLAGE),
    Row("GET", RP + "/red_flags", readers(), query=IN_VILLAGE),
    Row("GET", RP + "/trend", readers(), query={**IN_VILLAGE, "interval": "week"}),
    Row(
        "GET",
        RP + "/progress_table",
        readers(),
        query={**IN_VILLAGE, "campaign_id": "{campaign_id}", "format": "json"},
    ),
]


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
            if path.endswith(INFRA_SUFFIXES + INFRA_NAMES) or path.startswith(DASHBOARD_ASSETS):
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
            "household_id": "H-1",
            "subscription_id": str(hook["subscription_id"]),
            "delivery_id": str(delivery_id),
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
