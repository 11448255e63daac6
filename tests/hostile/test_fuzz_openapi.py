"""Property-based fuzzing of the four services' OpenAPI documents (issue 7).

schemathesis draws requests from each operation of each service's OpenAPI
document, valid ones and deliberately invalid ones, and each is sent as every
role (a department client, village, township and county staff, a viewer, an
admin, and nobody at all). Whatever the input, the answer must:

- never be a 5xx;
- when it is an error, be `application/problem+json` (RFC 9457) with a
  string `type` and `title` and the response's own `status`;
- when it succeeds, have the media type and match the schema the document
  gives for that status (errors too: every error is documented as problem+json).

The dashboard's static page and assets (`/dashboard`, HTML and scripts, no
schema) are left out (UNSETTLED); tests/services/reporting/dashboard/test_dashboard.py
covers them.

The requests go through httpx's ASGI transport on the test's own event loop
into the rolled-back test session (each request in a savepoint), because the
asyncpg connection behind the session belongs to that loop. schemathesis
therefore generates the cases (`APIOperation.as_strategy`) and judges the
responses (`Case.validate_response`), and this module sends them: its own
ASGI transport (`schemathesis.openapi.from_asgi`) would call the app from a
thread with another event loop. The example count is bounded and
derandomized (Hypothesis' fixed seed), so CI sees the same requests on every run.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.registry import load_regions
from tests.conftest import override_sessions
from tests.services.assistance.assist_helpers import add_object
from tests.services.identification.id_helpers import TOWN, open_case
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    COUNTY,
    VILLAGE,
    department_headers,
    record,
    register,
    staff_headers,
)

BASE = "http://warnex.test"
SERVICES = {
    "warning_ingest": "/ingest/v1",
    "identification": "/identification/v1",
    "assistance": "/assistance/v1",
    "reporting": "/reporting/v1",
}
# Endpoints other engineers are building now (screening campaigns, problem
# reports, the progress table, the dashboard): their contracts may still move,
# so they join the fuzz once they settle (issue 7).
UNSETTLED = re.compile(r"/(dashboard|todo)(/|\.|$)")
# Examples per operation and generation mode; each is sent as all seven callers.
EXAMPLES = 5
PROBLEM_JSON = "application/problem+json"


@functools.cache
def _app() -> FastAPI:
    """One app for the module; each test points its sessions at its own transaction."""
    from services.app import create_app

    return create_app()


@functools.cache
def _schema(service: str) -> Any:
    document = _app().state.services[service].openapi()
    return schemathesis.openapi.from_dict(document)


def _operations() -> list[Any]:
    params = []
    for service, prefix in SERVICES.items():
        for path, methods in _app().state.services[service].openapi()["paths"].items():
            if UNSETTLED.search(path):
                continue
            for method in methods:
                params.append(
                    pytest.param(service, method, path, id=f"{method.upper()} {prefix}{path}")
                )
    return params


def _draw(operation: Any, mode: GenerationMode) -> list[Case]:
    """`EXAMPLES` cases of `operation` (fewer if it has fewer distinct ones), the same every run."""
    drawn: list[Case] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def collect(case: Case) -> None:
        drawn.append(case)

    # An operation without parameters has nothing to negate.
    with contextlib.suppress(Unsatisfiable):
        collect()
    return drawn


@pytest.fixture(scope="module")
async def module_session(db: Database) -> AsyncIterator[AsyncSession]:
    """One transaction for the module, rolled back at its end: the callers and
    the rows are made once; each test works in a savepoint of it."""
    async with db.engine.connect() as conn:
        outer = await conn.begin()
        s = AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield s
        finally:
            await s.close()
            await outer.rollback()


@pytest.fixture(scope="module")
async def module_client(module_session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    app = _app()
    override_sessions(app, module_session)
    # A 500 must come back as a response to judge, not as the app's exception.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


@pytest.fixture(scope="module")
async def callers(module_session: AsyncSession) -> dict[str, dict[str, str]]:
    s = module_session
    return {
        "department": await department_headers(s, "civil_affairs"),
        "village_staff": await staff_headers(s, "village_staff", VILLAGE),
        "township_staff": await staff_headers(s, "township_staff", TOWN),
        "county_staff": await staff_headers(s, "county_staff", COUNTY),
        "viewer": await staff_headers(s, "viewer", COUNTY),
        "admin": await staff_headers(s, "admin", COUNTY),
        "anonymous": {},
    }


@pytest.fixture(scope="module")
async def rows(
    module_session: AsyncSession,
    module_client: httpx.AsyncClient,
    callers: dict[str, dict[str, str]],
) -> dict[str, str]:
    """A small county with a household, a case, a monitoring object, a measure
    and a batch with a warning: path parameters to hit real rows now and then."""
    s, client = module_session, module_client
    regions = [(COUNTY, "眉县"), (TOWN, "首善街道"), (VILLAGE, "第一村")]
    await load_regions(s, [{"code": c, "name": n} for c, n in regions])
    await register(s, "H-1", [1, 2])
    await register(s, "H-2", [3])
    county = callers["county_staff"]
    case = await open_case(client, s, "H-1", headers=county)
    object_id = await add_object(s, "H-2")
    measure = await client.post(
        "/assistance/v1/measures",
        json={"object_id": str(object_id), "category": "employment", "planned_on": "2026-11-01"},
        headers=county,
    )
    assert measure.status_code == 201, measure.text
    batch = await client.post(
        BATCHES,
        json={"records": [record(1), record(90, source_record_id="R-unmatched")]},
        headers=callers["department"],
    )
    assert batch.status_code == 201, batch.text
    receipt = batch.json()
    return {
        "household_id": "H-1",
        "case_id": case["case_id"],
        "object_id": str(object_id),
        "measure_id": measure.json()["measure_id"],
        "batch_id": receipt["batch_id"],
        "warning_id": receipt["records"][1]["warning_id"],
    }


@pytest.fixture
async def fuzz_client(
    module_session: AsyncSession, module_client: httpx.AsyncClient, rows: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """The client, with whatever a test's requests write rolled back after it."""
    test = await module_session.begin_nested()
    try:
        yield module_client
    finally:
        await test.rollback()


def _request(case: Case, prefix: str, headers: dict[str, str]) -> dict[str, Any]:
    """httpx arguments for `case` (schemathesis serializes it for `requests`)."""
    sent = case.as_transport_kwargs(base_url=BASE + prefix)
    request: dict[str, Any] = {
        "method": sent["method"],
        "url": sent["url"],
        "params": sent.get("params"),
        "headers": {**(sent.get("headers") or {}), **headers},
    }
    if "json" in sent:
        # Python's json, as `requests` would: big integers and lone surrogates (escaped) included.
        request["content"] = json.dumps(sent["json"]).encode()
    elif isinstance(sent.get("data"), str | bytes):
        request["content"] = sent["data"]
    elif sent.get("data") is not None:
        request["data"] = sent["data"]
    return request


def _judge(case: Case, response: httpx.Response) -> str | None:
    """What is wrong with `response`, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status} server error"
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if status >= 400:
        if media != PROBLEM_JSON:
            return f"{status} answered as {media or 'no media type'}, not {PROBLEM_JSON}"
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            return f"{status} problem body is not JSON"
        if not (
            isinstance(body, dict)
            and isinstance(body.get("type"), str)
            and isinstance(body.get("title"), str)
            and body.get("status") == status
        ):
            return f"{status} problem lacks type/title/status: {body!r:.300}"
        if status not in (401, 403, 404) and not (
            isinstance(body.get("detail"), str)
            and body["detail"]
            and isinstance(body.get("errors"), list)
        ):
            return f"{status} problem lacks detail/errors: {body!r:.300}"
        documented = case.operation.definition.raw.get("responses", {}).get(str(status))
        if documented is None:
            return None  # an error the document does not list: its body was checked above
    try:
        case.validate_response(
            response, checks=[content_type_conformance, response_schema_conformance]
        )
    except (Failure, FailureGroup) as exc:  # one failed check, or several
        return f"{status} does not match its documented response: {exc}"
    return None


@pytest.mark.parametrize(("service", "method", "path"), _operations())
async def test_fuzzed_requests_get_no_5xx_and_well_formed_answers(
    fuzz_client: httpx.AsyncClient,
    callers: dict[str, dict[str, str]],
    rows: dict[str, str],
    service: str,
    method: str,
    path: str,
) -> None:
    operation = _schema(service)[path][method]
    prefix = SERVICES[service]
    cases = _draw(operation, GenerationMode.POSITIVE) + _draw(operation, GenerationMode.NEGATIVE)
    failures: list[str] = []

    async def send(case: Case, role: str) -> int:
        request = _request(case, prefix, callers[role])
        response = await fuzz_client.request(**request)
        problem = _judge(case, response)
        if problem:
            body = request.get("content", request.get("data"))
            failures.append(
                f"as {role}: {request['method']} {request['url']}"
                f" params={request['params']!r:.200} body={body!r:.300}: {problem}"
            )
        return response.status_code

    # The first case goes to every caller. The rest take turns among the callers
    # that got past authentication and roles (where the deep code runs), with
    # every third also sent to one of the refused: a few requests per case, not
    # seven, so that the fuzz stays within its time budget.
    refused = [role for role in callers if await send(cases[0], role) in (401, 403)]
    admitted = [role for role in callers if role not in refused]
    for n, case in enumerate(cases[1:], start=1):
        if n % 2 == 1:  # every other case names rows that exist
            for name in case.path_parameters or {}:
                if name in rows:
                    case.path_parameters[name] = rows[name]
        roles = [admitted[n % len(admitted)]] if admitted else []
        if refused and (n % 3 == 0 or not admitted):
            roles.append(refused[(n // 3) % len(refused)])
        for role in roles:
            await send(case, role)
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:20])


def test_the_judge_refuses_a_5xx_a_plain_json_error_and_a_problem_without_its_fields() -> None:
    case = _schema("warning_ingest")["/warnings"]["get"].Case()
    request = httpx.Request("GET", BASE + "/ingest/v1/warnings")

    def answer(status: int, media: str, body: dict[str, Any]) -> httpx.Response:
        response = httpx.Response(
            status, headers={"content-type": media}, content=orjson.dumps(body), request=request
        )
        response.elapsed = timedelta(0)  # set by a transport; schemathesis reads it
        return response

    problem = {"type": "about:blank", "title": "Not found", "status": 404}
    assert _judge(case, answer(404, PROBLEM_JSON, problem)) is None
    assert _judge(case, answer(500, PROBLEM_JSON, {**problem, "status": 500})) is not None
    assert _judge(case, answer(404, "application/json", problem)) is not None
    assert _judge(case, answer(404, PROBLEM_JSON, {"type": "x", "title": "y"})) is not None
    assert _judge(case, answer(409, PROBLEM_JSON, {**problem, "status": 409})) is not None
    conflict = {**problem, "status": 409, "detail": "Already done.", "errors": []}
    assert _judge(case, answer(409, PROBLEM_JSON, conflict)) is None
    assert _judge(case, answer(200, "application/json", {"items": "not a list"})) is not None


def test_the_documents_describe_error_answers_as_problem_json() -> None:
    undocumented = [
        f"{method.upper()} {SERVICES[service]}{path} {status}"
        for service in SERVICES
        for path, methods in _app().state.services[service].openapi()["paths"].items()
        for method, operation in methods.items()
        for status, response in operation.get("responses", {}).items()
        if status[0] in "45" and set(response.get("content", {})) - {PROBLEM_JSON}
    ]
    assert not undocumented, undocumented
