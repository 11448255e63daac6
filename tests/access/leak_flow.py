"""The acceptance flow of tests/access/test_no_leaks.py: its people, with
distinctive names and ID numbers to search for, and the steps that send every
kind of request while keeping each answer."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.opening import open_cases_for_warnings
from shared.events import EventRecord
from tests.services.identification.screening_helpers import (
    COUNTY,
    CSV,
    OTHER_TOWN_VILLAGE,
    PHASES,
    REGIONS,
    VILLAGE,
    csv_body,
    screening,
)
from tests.services.identification.steps.step_helpers import BODIES
from tests.services.warning_ingest.ingest_helpers import (
    person,
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


async def accepted_events(session: AsyncSession) -> list[EventRecord]:
    rows = await session.execute(
        text(
            "SELECT id, xid, county_code, type, aggregate_type, aggregate_id, actor,"
            " occurred_at, payload FROM events WHERE type = 'warning.accepted' ORDER BY id"
        )
    )
    return [EventRecord(**row._mapping) for row in rows]


async def push_and_load(flow: Flow, session: AsyncSession, h: dict[str, dict[str, str]]) -> str:
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
        session, await accepted_events(session), decision_days=15, actor="test"
    )
    return str(early["records"][0]["warning_id"])


async def walk_case(flow: Flow, h: dict[str, dict[str, str]]) -> str:
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


async def provoke_errors(flow: Flow, h: dict[str, dict[str, str]]) -> None:
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


async def run_campaign(flow: Flow, h: dict[str, dict[str, str]]) -> str:
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


async def read_reports(flow: Flow, h: dict[str, dict[str, str]], campaign_id: str) -> list[str]:
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
    # The staff to-do list: staff only.
    response = await flow.send("GET", RP + "/worklist", county)
    assert response.status_code == 200, response.text
    texts.append(response.text)
    response = await flow.send(
        "GET", RP + "/progress_table", viewer, params={"campaign_id": campaign_id, "format": "xlsx"}
    )
    assert response.status_code == 200, response.text
    texts.append(_xlsx_text(response.content))
    return texts
