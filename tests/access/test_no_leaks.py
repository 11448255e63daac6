"""Nothing leaked: an acceptance flow run with logs at DEBUG, then every place
personal data must not reach is searched for it.

The flow loads regions and households (registry API), pushes warnings, resolves
an unmatched one, walks a case through all four steps, reveals a household's ID
numbers as county staff, records a measure and an assessment, uploads a
screening campaign's records, reads every reporting endpoint (the progress table
as JSON, CSV and XLSX) and provokes errors (bad bodies, unknown ids, an ID
number typed into a URL).

No plain ID number may appear in the logs, any response but the reveal (whose
point is to show them), the event payloads, the audit log, or anywhere in the
database. No person name may appear in the logs, an error body, an event
payload, a reporting answer or the audit log. Names are stored on purpose (the
registry's `head_name` and `members.name`, the warnings, the screener), so the
database check is about ID numbers only.
"""

from __future__ import annotations

import io
import logging
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.opening import open_cases_for_warnings
from shared import clock
from shared.events import EventRecord
from shared.observability import configure_logging
from tests.services.identification.screening_helpers import (
    COUNTY,
    CSV,
    OTHER_TOWN_VILLAGE,
    PHASES,
    REGIONS,
    TOWN,
    VILLAGE,
    csv_body,
    screening,
)
from tests.services.identification.steps.step_helpers import BODIES
from tests.services.warning_ingest.ingest_helpers import (
    department_headers,
    person,
    staff_headers,
)

PUSHED_AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10 November, 10:00 in Shanghai
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
IG, ID, AS, RP = "/ingest/v1", "/identification/v1", "/assistance/v1", "/reporting/v1"

# The people of the flow: distinctive names, so a hit is never a coincidence.
HEAD_1, SPOUSE_1, HEAD_2, HEAD_6 = "欧阳建国", "司马秀英", "诸葛明远", "上官云飞"
UNREGISTERED = "慕容雪松"  # pushed before anyone registered her
SCREENER = "令狐巡查"
NAMES = (HEAD_1, SPOUSE_1, HEAD_2, HEAD_6, UNREGISTERED, SCREENER)
IDS = {
    HEAD_1: person(1),
    SPOUSE_1: person(2),
    HEAD_2: person(3),
    HEAD_6: person(4),
    UNREGISTERED: person(5),
}
# A well-formed number whose check digit is wrong: rejected, never echoed.
BAD_ID = person(6)[:-1] + ("0" if person(6)[-1] != "0" else "1")
ID_NUMBERS = (*IDS.values(), BAD_ID)


def member(name: str, relation: str = "head") -> dict[str, Any]:
    return {"id_number": IDS[name], "name": name, "relation": relation, "labour_capacity": "full"}


def household(household_id: str, region: str, *members: dict[str, Any]) -> dict[str, Any]:
    return {
        "household_id": household_id,
        "region_code": region,
        "category": "general",
        "head_name": members[0]["name"],
        "members": list(members),
    }


def warning(seq: str, warning_type: str, name: str, **fields: Any) -> dict[str, Any]:
    return {
        "source_record_id": seq,
        "warning_type": warning_type,
        "id_number": IDS[name],
        "name": name,
        **fields,
    }


class Flow:
    """Sends requests and keeps every answer, to be searched afterwards."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.answers: list[tuple[str, httpx.Response]] = []
        self.revealed: list[httpx.Response] = []

    async def send(
        self, method: str, url: str, headers: dict[str, str], **kwargs: Any
    ) -> httpx.Response:
        response = await self.client.request(method, url, headers=headers, **kwargs)
        self.answers.append((f"{method} {url}", response))
        return response

    async def ok(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> Any:
        response = await self.send(method, url, headers, **kwargs)
        assert response.status_code in (200, 201), (url, response.text)
        return response.json()

    async def refused(
        self,
        status: int | tuple[int, ...],
        method: str,
        url: str,
        headers: dict[str, str],
        **kwargs: Any,
    ) -> None:
        response = await self.send(method, url, headers, **kwargs)
        allowed = status if isinstance(status, tuple) else (status,)
        assert response.status_code in allowed, (url, response.text)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """structlog at DEBUG into a buffer; stdlib records at DEBUG into caplog.
    SQLAlchemy's engine stays at WARNING, as warnex runs it (its echo would print
    bound parameters, which no warnex setting turns on); so does httpx, the test's
    own client."""
    buffer = io.StringIO()
    real_stderr = sys.stderr
    sys.stderr = buffer  # configure_logging binds the stream it finds here
    try:
        configure_logging("DEBUG", "json")
    finally:
        sys.stderr = real_stderr
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    # The test's own HTTP client logs the URLs it sends; that is the caller, not warnex.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        yield buffer
    finally:
        logging.getLogger("sqlalchemy").setLevel(logging.NOTSET)
        logging.getLogger("httpx").setLevel(logging.NOTSET)
        configure_logging("INFO", "json")


async def _accepted_events(session: AsyncSession) -> list[EventRecord]:
    rows = await session.execute(
        text(
            "SELECT id, xid, county_code, type, aggregate_type, aggregate_id, actor,"
            " occurred_at, payload FROM events WHERE type = 'warning.accepted' ORDER BY id"
        )
    )
    return [EventRecord(**row._mapping) for row in rows]


async def _push_and_load(flow: Flow, session: AsyncSession, h: dict[str, dict[str, str]]) -> str:
    """Regions, households, warnings; returns the unmatched warning's id."""
    await flow.ok(
        "POST",
        IG + "/registry/regions",
        h["admin"],
        json={"regions": [{"code": c, "name": n} for c, n in REGIONS]},
    )
    # Pushed before the registry knows her: unmatched in VILLAGE.
    early = await flow.ok(
        "POST",
        IG + "/batches",
        h["civil_affairs"],
        json={"records": [warning("C-1", "dibao", UNREGISTERED, region_code=VILLAGE)]},
    )
    households = [
        household("H-1", VILLAGE, member(HEAD_1), member(SPOUSE_1, "spouse")),
        household("H-2", VILLAGE, member(HEAD_2)),
        household("H-6", OTHER_TOWN_VILLAGE, member(HEAD_6)),
    ]
    loaded = await flow.ok(
        "POST", IG + "/registry/households", h["county"], json={"households": households}
    )
    assert loaded["upserted"] == 3, loaded
    receipt = await flow.ok(
        "POST",
        IG + "/batches",
        h["health"],
        json={
            "records": [
                warning("M-1", "serious_illness", HEAD_1),
                warning("M-2", "serious_illness", HEAD_6),
                {**warning("M-3", "serious_illness", HEAD_2), "id_number": BAD_ID},
            ]
        },
    )
    assert [r["status"] for r in receipt["records"]] == ["accepted", "accepted", "rejected"]
    await open_cases_for_warnings(
        session, await _accepted_events(session), decision_days=15, actor="test"
    )
    return str(early["records"][0]["warning_id"])


async def _walk_case(flow: Flow, h: dict[str, dict[str, str]]) -> str:
    """H-1's case through all four steps; returns the monitoring object's id."""
    page = await flow.ok("GET", ID + "/cases", h["county"], params={"region": VILLAGE})
    [case] = page["items"]
    roles = {
        "household_visit": "village",
        "village_review": "village",
        "township_review": "township",
        "county_approval": "county",
    }
    for step, role in roles.items():
        await flow.ok(
            "POST", f"{ID}/cases/{case['case_id']}/steps/{step}", h[role], json=BODIES[step]()
        )
    objects = await flow.ok(
        "GET", ID + "/monitoring_objects", h["county"], params={"region": VILLAGE}
    )
    [obj] = objects["items"]
    return str(obj["object_id"])


async def _provoke_errors(flow: Flow, h: dict[str, dict[str, str]]) -> None:
    county = h["county"]
    await flow.refused(404, "GET", f"{ID}/cases/{uuid.uuid4()}", county)
    await flow.refused(404, "GET", f"{ID}/households/{IDS[HEAD_1]}", county)  # an ID in a URL
    await flow.refused((404, 422), "GET", ID + "/cases", county, params={"region": IDS[HEAD_1]})
    await flow.refused(
        400,
        "POST",
        ID + "/cases",
        {**county, "Content-Type": "application/json"},
        content=b"{not json",
    )
    await flow.refused(
        404,  # no such household (an ID number where a household id goes)
        "POST",
        ID + "/cases",
        county,
        json={
            "household_id": IDS[HEAD_1],
            "source": "self_report",
            "found_on": "2026-11-20",
            "description": HEAD_1,
        },
    )
    bad_member = {**member(HEAD_2), "id_number": BAD_ID, "name": HEAD_2 * 20}
    answer = await flow.ok(
        "POST",
        IG + "/registry/households",
        county,
        json={"households": [household("H-9", VILLAGE, bad_member)]},
    )
    assert answer["rejected"] == 1
    await flow.refused(
        422,
        "POST",
        IG + "/batches",
        h["health"],
        json={
            "atomic": True,
            "records": [
                {**warning("M-9", "serious_illness", HEAD_1), "name": ""},
                {**warning("M-8", "serious_illness", HEAD_2), "id_number": BAD_ID},
            ],
        },
    )
    await flow.refused(403, "GET", f"{ID}/households/H-1", h["village"], params={"reveal": "true"})


async def _campaign(flow: Flow, h: dict[str, dict[str, str]]) -> str:
    campaign = await flow.ok(
        "POST",
        ID + "/campaigns",
        h["county"],
        json={"name": "2026年集中排查", "region_code": COUNTY, "year": 2026, "phases": PHASES},
    )
    url = f"{ID}/campaigns/{campaign['campaign_id']}/screenings"
    await flow.ok(
        "POST",
        url,
        h["village"],
        json={"records": [screening("H-1", screener=SCREENER, needs_inclusion="yes")]},
    )
    body = csv_body([screening("H-2", screener=SCREENER), screening("H-404", screener=SCREENER)])
    receipt = await flow.ok("POST", url, {**h["village"], "Content-Type": CSV}, content=body)
    assert [r["status"] for r in receipt["records"]] == ["accepted", "rejected"], receipt
    return str(campaign["campaign_id"])


def _xlsx_text(content: bytes) -> str:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        " ".join("" if v is None else str(v) for v in row)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    )


async def _reports(flow: Flow, h: dict[str, dict[str, str]], campaign_id: str) -> list[str]:
    texts: list[str] = []
    viewer, county = h["viewer"], h["county"]
    for path, params in [
        ("/overview", {}),
        ("/regions", {"level": "town"}),
        ("/regions", {"level": "village"}),
        ("/feeds", {}),
        ("/red_flags", {}),
        ("/trend", {"interval": "week"}),
        ("/progress_table", {"campaign_id": campaign_id, "format": "json"}),
        ("/progress_table", {"campaign_id": campaign_id, "format": "csv"}),
    ]:
        for headers in (viewer, county):
            response = await flow.send("GET", RP + path, headers, params=params)
            assert response.status_code == 200, (path, response.text)
            texts.append(response.text)
    response = await flow.send(
        "GET", RP + "/progress_table", viewer, params={"campaign_id": campaign_id, "format": "xlsx"}
    )
    assert response.status_code == 200, response.text
    texts.append(_xlsx_text(response.content))
    return texts


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with clock.frozen_at(NOW):
        yield


async def _headers(session: AsyncSession) -> dict[str, dict[str, str]]:
    return {
        "admin": await staff_headers(session, "admin", COUNTY),
        "county": await staff_headers(session, "county_staff", COUNTY),
        "township": await staff_headers(session, "township_staff", TOWN),
        "village": await staff_headers(session, "village_staff", VILLAGE),
        "viewer": await staff_headers(session, "viewer", COUNTY),
        "health": await department_headers(session, "health"),
        "civil_affairs": await department_headers(session, "civil_affairs"),
    }


def _hits(haystack: str, needles: tuple[str, ...]) -> list[str]:
    return [n for n in needles if n in haystack]


def _with_hex(numbers: tuple[str, ...]) -> tuple[str, ...]:
    """The numbers, and their bytes as bytea prints them (a plain copy in a bytea column)."""
    return (*numbers, *(n.encode().hex() for n in numbers))


async def test_no_id_number_or_name_leaks_from_a_full_flow(
    client: httpx.AsyncClient,
    session: AsyncSession,
    logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = await _headers(session)
    flow = Flow(client)
    with clock.frozen_at(PUSHED_AT):
        unmatched_id = await _push_and_load(flow, session, h)
    resolved = await flow.ok(
        "POST",
        f"{IG}/warnings/{unmatched_id}/resolve",
        h["county"],
        json={"action": "match", "household_id": "H-2"},
    )
    assert resolved["status"] == "matched"
    object_id = await _walk_case(flow, h)

    revealed = await flow.client.get(
        f"{ID}/households/H-1", headers=h["county"], params={"reveal": "true"}
    )
    assert revealed.status_code == 200
    assert IDS[HEAD_1] in revealed.text  # the reveal shows them: excluded from the search
    masked = await flow.ok("GET", f"{ID}/households/H-1", h["county"])
    assert masked["members"][0]["id_number"] != IDS[HEAD_1]

    await flow.ok(
        "POST",
        AS + "/measures",
        h["county"],
        json={"object_id": object_id, "category": "industry", "planned_on": "2026-11-23"},
    )
    await flow.ok(
        "POST",
        f"{AS}/monitoring_objects/{object_id}/assessments",
        h["village"],
        json={
            "assessed_on": "2026-11-23",
            "kind": "routine",
            "income_per_capita_yuan": 9000,
            "rigid_expenditure_yuan": 0,
            "housing_secure": True,
            "education_secure": True,
            "medical_secure": True,
            "drinking_water_secure": True,
            "notes": "家庭情况稳定",
        },
    )
    campaign_id = await _campaign(flow, h)
    reports = await _reports(flow, h, campaign_id)
    await _provoke_errors(flow, h)

    # The places searched, each with what may not be there.
    log_text = logs.getvalue() + "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    # Every request's log line was captured (the flow sends over forty).
    assert logs.getvalue().count('"event": "request"') == len(flow.answers) + 1
    errors = [r.text for _, r in flow.answers if r.status_code >= 400]
    # Per-record errors of receipts and load answers are error messages too.
    errors += [r.text for _, r in flow.answers if '"errors"' in r.text]
    assert len(errors) >= 8
    responses = "\n".join(r.text for _, r in flow.answers)
    payloads = "\n".join(
        str(p) for (p,) in await session.execute(text("SELECT payload::text FROM events"))
    )
    audit = "\n".join(
        str(a) for (a,) in await session.execute(text("SELECT a::text FROM audit_log a"))
    )
    assert "reveal" in audit  # the reveal was audited
    leaks = {
        "logs": _hits(log_text, ID_NUMBERS + NAMES),
        "error bodies": _hits("\n".join(errors), ID_NUMBERS + NAMES),
        "responses but the reveal": _hits(responses, ID_NUMBERS),
        "event payloads": _hits(payloads, ID_NUMBERS + NAMES),
        "reporting": _hits("\n".join(reports), ID_NUMBERS + NAMES),
        "audit log": _hits(audit, ID_NUMBERS + NAMES),
    }
    assert leaks == {k: [] for k in leaks}

    # The database dump: every row of every table as text (bytea as hex).
    tables = [
        t
        for (t,) in await session.execute(
            text(
                "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name)"
                " FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
                " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
        )
    ]
    assert "public.members" in tables and "public.households" in tables
    found: dict[str, list[str]] = {}
    for table in tables:  # a few dozen tables, one query each
        dump = "\n".join(
            str(r) for (r,) in await session.execute(text(f"SELECT t::text FROM {table} t"))
        )
        if hits := _hits(dump, _with_hex(ID_NUMBERS)):
            found[table] = hits
    members = "\n".join(
        str(r) for (r,) in await session.execute(text("SELECT m::text FROM members m"))
    )
    assert SPOUSE_1 in members  # names are kept (the dump check is about ID numbers only)
    assert found == {}
