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
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from shared.observability import configure_logging
from tests.access.leak_flow import (
    AS,
    HEAD_1,
    ID,
    ID_NUMBERS,
    IDS,
    IG,
    NAMES,
    NOW,
    PUSHED_AT,
    SPOUSE_1,
    Flow,
    provoke_errors,
    push_and_load,
    read_reports,
    run_campaign,
    walk_case,
)
from tests.services.identification.screening_helpers import (
    COUNTY,
    TOWN,
    VILLAGE,
)
from tests.services.warning_ingest.ingest_helpers import (
    department_headers,
    staff_headers,
)


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
        unmatched_id = await push_and_load(flow, session, h)
    resolved = await flow.ok(
        "POST",
        f"{IG}/warnings/{unmatched_id}/resolve",
        h["county"],
        json={"action": "match", "household_id": "H-2"},
    )
    assert resolved["status"] == "matched"
    object_id = await walk_case(flow, h)

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
    campaign_id = await run_campaign(flow, h)
    reports = await read_reports(flow, h, campaign_id)
    await provoke_errors(flow, h)

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
