"""The fast path for small pushes stores, announces and answers exactly what
the batch machinery does: drawn pushes (valid and invalid records,
duplicates within the push and of an earlier batch, unknown regions, late
and below-threshold records, atomic or not, JSON or NDJSON, with an
Idempotency-Key or not) go through each path in a savepoint of the same
transaction, and everything they leave is compared, ids normalised."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from services.identification.cases.opening import CASES_FROM_WARNINGS
from services.warning_ingest.batches import small_push
from shared.event_types import WARNING_ACCEPTED
from shared.events import EventRecord
from shared.pii import PiiProtector
from shared.registry import load_households, load_regions
from shared.settings import get_settings
from tests.services.warning_ingest.batches.batch_helpers import _frozen  # noqa: F401 (the autouse clock)
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    COUNTY,
    TODAY,
    VILLAGE,
    department_headers,
    person,
    register,
)

EXAMPLES = 60
OTHER_COUNTY_VILLAGE = "610327100201"
TYPES = {
    "civil_affairs": ["dibao", "tekun", "disaster", "no_such_type"],
    "medical_insurance": ["high_medical_expense", "dibao"],
    "emergency_management": ["disaster", "dibao"],
}
ID_NUMBERS = [
    person(1),  # a general household
    person(2),  # the same household
    person(3),  # a poverty-alleviated household (the lower threshold)
    person(4, "610327"),  # a household of another county, when there is one
    person(60),  # in no household
    person(61, "610327"),
    person(62, "110101"),  # a division the registry does not hold
    "610326198001011234",  # a bad check digit
]
_absent = st.just(None)


def _record(department: str) -> st.SearchStrategy[Any]:
    fields = st.fixed_dictionaries(
        {
            "source_record_id": st.sampled_from(["A", "B", "C", " A", None, ""]),
            "warning_type": st.sampled_from(TYPES[department]),
            "id_number": st.sampled_from(ID_NUMBERS),
            "name": st.sampled_from(["张三", "李四", None]),
            "region_code": _absent | st.sampled_from([VILLAGE, "610326100299", "61032610"]),
            "event_date": _absent
            | st.sampled_from(["2026-11-21", "2026-10-01", "2026-12-01", "2026/11/01"]),
            "amount_yuan": _absent | st.sampled_from([5000, 20000, "30000.50", -1]),
            "details": _absent | st.sampled_from([{"hospital": "县医院"}, "not json"]),
            "remark": _absent | st.just("x"),
        }
    ).map(lambda r: {k: v for k, v in r.items() if v is not None})
    return st.one_of(fields, fields, fields, st.just(["not", "an", "object"]))


@dataclass(frozen=True)
class Scenario:
    department: str
    earlier: list[Any]
    records: list[Any]
    media: str
    atomic: bool
    key: str | None
    regions: bool
    other_county: bool


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    department = draw(st.sampled_from(sorted(TYPES)))
    return Scenario(
        department=department,
        earlier=draw(st.lists(_record(department), max_size=3)),
        records=draw(st.lists(_record(department), max_size=8)),
        media=draw(st.sampled_from(["json", "ndjson"])),
        atomic=draw(st.booleans()),
        key=draw(st.sampled_from([None, "k-1"])),
        regions=draw(st.booleans()),
        other_county=draw(st.booleans()),
    )


def _drawn() -> list[Scenario]:
    drawn: list[Scenario] = []

    @given(scenario=scenarios())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def collect(scenario: Scenario) -> None:
        drawn.append(scenario)

    collect()
    return drawn


async def _send(client, headers, scenario: Scenario, records: list[Any], *, key: str | None):
    headers = {**headers, **({"Idempotency-Key": key} if key else {})}
    if scenario.media == "json":
        body = {"records": records, **({"atomic": True} if scenario.atomic else {})}
        return await client.post(BATCHES, json=body, headers=headers)
    lines = [orjson.dumps(r) for r in records] + [b"{broken"] * (len(records) % 3 == 2)
    return await client.post(
        BATCHES,
        content=b"\n".join(lines),
        params={"atomic": "true"} if scenario.atomic else {},
        headers={**headers, "Content-Type": "application/x-ndjson"},
    )


_DUMPS = {
    "warnings": "SELECT * FROM warnings",
    "warning_sources": "SELECT * FROM warning_sources",
    "ingest_batches": "SELECT * FROM ingest_batches",
    "feed_pushes": "SELECT * FROM feed_pushes",
    "events": "SELECT county_code, type, aggregate_type, aggregate_id, actor, occurred_at,"
    " payload FROM events",
    "audit_log": "SELECT county_code, at, actor, action, target_type, target_id, request_id,"
    " details FROM audit_log",
    "cases": "SELECT * FROM cases",
    "case_warnings": "SELECT * FROM case_warnings",
}
_SEQUENCED = {"id", "xid"}  # sequence values are not rolled back with a savepoint


async def _open_cases(session) -> None:
    """What the identification.cases consumer does with the push's events."""
    rows = await session.execute(
        text(
            "SELECT id, xid, county_code, type, aggregate_type, aggregate_id, actor,"
            " occurred_at, payload FROM events WHERE type = :type ORDER BY xid, id"
        ),
        {"type": WARNING_ACCEPTED},
    )
    events = [EventRecord(**row._mapping) for row in rows]
    if events:
        await CASES_FROM_WARNINGS.handler(session, events)


async def _labels(session, batch_id: str | None) -> dict[str, str]:
    """Names for the ids a path makes at random, from what identifies them."""
    labels = {} if batch_id is None else {batch_id: "batch:new"}
    for warning_id, department, source_record_id in await session.execute(
        text("SELECT warning_id, department, source_record_id FROM warning_sources")
    ):
        labels[str(warning_id)] = f"warning:{department}:{source_record_id}"
    for case_id, household_id in await session.execute(
        text("SELECT case_id, household_id FROM cases")
    ):
        labels[str(case_id)] = f"case:{household_id}"
    return labels


def _normalised(value: Any, labels: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _normalised(v, labels) for k, v in value.items() if k != "request_id"}
    if isinstance(value, list | tuple):
        return [_normalised(v, labels) for v in value]
    if isinstance(value, uuid.UUID):
        value = str(value)
    if isinstance(value, str):
        return labels.get(value, value)
    return value


async def _dump(session, protector: PiiProtector, batch_id: str | None) -> dict[str, Any]:
    labels = await _labels(session, batch_id)
    tables = {}
    for table, sql in _DUMPS.items():
        rows = []
        for row in (await session.execute(text(sql))).mappings():
            row = {k: v for k, v in row.items() if k not in _SEQUENCED}
            if row.get("id_sealed") is not None:  # sealed with a random nonce
                row["id_sealed"] = protector.open(row["id_sealed"])
            rows.append(_normalised(row, labels))
        tables[table] = sorted(rows, key=lambda r: orjson.dumps(r, default=str))
    return {"labels": sorted(labels.values()), **tables}


async def _through(path: str, client, session, headers, scenario, protector) -> dict[str, Any]:
    """Push through `path` in a savepoint, open the cases, dump, roll back."""
    savepoint = await session.begin_nested()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(small_push, "SMALL_PUSH_MAX", 100 if path == "small" else -1)
            first = await _send(client, headers, scenario, scenario.records, key=scenario.key)
            again = None
            if scenario.key is not None:
                again = await _send(client, headers, scenario, scenario.records, key=scenario.key)
        body = first.json()
        batch_id = body.get("batch_id") if first.status_code == 201 else None
        await _open_cases(session)
        labels = await _labels(session, batch_id)
        return {
            "status": first.status_code,
            "body": _normalised(body, labels),
            "replay": None if again is None else (again.status_code, again.json() == body),
            "stored": await _dump(session, protector, batch_id),
        }
    finally:
        await savepoint.rollback()


async def _set_up(session, client, scenario: Scenario, protector) -> dict[str, str]:
    await register(session, "H1", [1, 2])
    await register(session, "H2", [3], category="poverty_alleviated")
    if scenario.other_county:  # the registry has two counties: no home county
        member = {"id_number": person(4, "610327"), "name": "张三", "relation": "head",
                  "labour_capacity": "full"}  # fmt: skip
        household = {"household_id": "H3", "region_code": OTHER_COUNTY_VILLAGE,
                     "category": "general", "head_name": "张三", "members": [member]}  # fmt: skip
        loaded = await load_households(
            session, [household], protector=protector, actor="test", today=TODAY
        )
        assert loaded.rejected == 0
    if scenario.regions:
        regions = [{"code": COUNTY, "name": "县"}, {"code": VILLAGE, "name": "村"}]
        assert (await load_regions(session, regions, actor="test")).rejected == 0
    headers = await department_headers(session, scenario.department)
    if scenario.earlier:
        response = await client.post(BATCHES, json={"records": scenario.earlier}, headers=headers)
        assert response.status_code == 201, response.text
    return headers


async def test_small_and_batch_paths_store_the_same(client, session):
    protector = PiiProtector.from_secret(get_settings().secret_bytes())
    for scenario in _drawn():
        outer = await session.begin_nested()
        try:
            headers = await _set_up(session, client, scenario, protector)
            small = await _through("small", client, session, headers, scenario, protector)
            batch = await _through("batch", client, session, headers, scenario, protector)
        finally:
            await outer.rollback()
        assert small == batch, scenario
        if scenario.key is not None and small["status"] == 201:
            assert small["replay"] == (200, True), scenario


async def test_a_push_over_the_threshold_takes_the_batch_path(client, session, monkeypatch):
    monkeypatch.setattr(small_push, "SMALL_PUSH_MAX", 2)
    taken: list[int] = []
    store_batch = small_push.batches.store_batch

    async def spy(*args: Any, **kwargs: Any) -> dict[str, Any]:
        taken.append(len(taken))
        return await store_batch(*args, **kwargs)

    monkeypatch.setattr(small_push.batches, "store_batch", spy)
    headers = {**await department_headers(session, "civil_affairs"),
               "Content-Type": "application/x-ndjson"}  # fmt: skip
    for count, batch_path in ((2, []), (3, [0])):
        lines = b"\n".join(
            orjson.dumps({"source_record_id": f"R{count}-{i}", "warning_type": "dibao",
                          "id_number": person(i), "name": "张三"})
            for i in range(count)
        )  # fmt: skip
        response = await client.post(BATCHES, content=lines, headers=headers)
        assert response.status_code == 201, response.text
        receipt = response.json()
        assert receipt["accepted"] == count
        assert [e["index"] for e in receipt["records"]] == list(range(count))
        assert taken == batch_path
