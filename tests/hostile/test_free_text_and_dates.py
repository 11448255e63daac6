"""Issue 21, findings 6 and 7: NUL and control characters in the free text of
cases, measures, assessments, campaigns, problems and removals are a 422 on
their field (they were 500s), and so are dates nobody means (0001-01-01,
9999-12-31): every date of a request lies between 1 January of the policy's
first year and a year after today (shared/dates.py). Nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from shared import clock
from tests.services.identification.id_helpers import COUNTY, VILLAGE, register, staff_headers
from tests.services.identification.objects.test_monitoring_objects import add_object

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
OBJECT = "/assistance/v1/monitoring_objects/{object_id}"
NUL = "家中\u0000突发变故"
BELL = "\u0007"
PHASE = {"name": "摸底", "due_on": "2026-12-20"}


def _bodies(household_id: str, object_id: str) -> dict[str, tuple[str, dict]]:
    """Per call: its path and a good body, which each case spoils in one field."""
    return {
        "case": (
            "/identification/v1/cases",
            {
                "household_id": household_id,
                "source": "self_report",
                "found_on": "2026-11-20",
                "description": "家中突发变故",
            },
        ),
        "campaign": (
            "/identification/v1/campaigns",
            {"name": "集中排查", "region_code": COUNTY, "year": 2026, "phases": [PHASE]},
        ),
        "problem": (
            "/identification/v1/problems",
            {
                "region_code": VILLAGE,
                "type": "data_quality",
                "description": "漏评",
                "found_on": "2026-11-20",
                "due_on": "2026-12-20",
                "responsible": "村委会",
            },
        ),
        "measure": (
            "/assistance/v1/measures",
            {
                "object_id": object_id,
                "category": "industry",
                "planned_on": "2026-12-01",
                "description": "产业帮扶",
            },
        ),
        "assessment": (
            OBJECT.format(object_id=object_id) + "/assessments",
            {
                "assessed_on": "2026-11-20",
                "kind": "routine",
                "income_per_capita_yuan": 9000,
                "rigid_expenditure_yuan": 0,
                "housing_secure": True,
                "education_secure": True,
                "medical_secure": True,
                "drinking_water_secure": True,
                "notes": "好",
            },
        ),
        "removal": (
            f"/identification/v1/monitoring_objects/{object_id}/removal",
            {"reason": "识别错误", "approved_by": "县乡村振兴局"},
        ),
    }


SPOILED = [
    ("case", "description", NUL, "invalid_value"),
    ("case", "found_on", "0001-01-01", "date_out_of_range"),
    ("campaign", "name", BELL, "invalid_value"),
    ("campaign", "phases.0.due_on", "9999-12-31", "date_out_of_range"),
    ("problem", "description", NUL, "invalid_value"),
    ("problem", "responsible", BELL, "invalid_value"),
    ("problem", "due_on", "9999-12-31", "date_out_of_range"),
    ("measure", "description", NUL, "invalid_value"),
    ("measure", "planned_on", "0001-01-01", "date_out_of_range"),
    ("measure", "planned_on", "9999-12-31", "date_out_of_range"),
    ("assessment", "notes", NUL, "invalid_value"),
    ("removal", "reason", NUL, "invalid_value"),
    ("removal", "approved_by", BELL, "invalid_value"),
]


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


def _spoil(body: dict, field: str, value: str) -> dict:
    *path, last = field.split(".")
    spoiled = {k: (list(v) if isinstance(v, list) else v) for k, v in body.items()}
    target: dict | list = spoiled
    for part in path:
        item = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(item, dict):
            item = dict(item)
            if isinstance(target, list):
                target[int(part)] = item
            else:
                target[part] = item
        target = item
    target[last] = value  # type: ignore[index]
    return spoiled


async def _counts(session) -> tuple:
    tables = ("cases", "campaigns", "problems", "measures", "assessments", "events")
    sql = ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)
    return tuple((await session.execute(text(f"SELECT {sql}"))).one())


@pytest.mark.parametrize(("call", "field", "value", "code"), SPOILED)
async def test_bad_text_or_a_date_nobody_means_is_422_on_its_field(
    client, session, call, field, value, code
):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    path, body = _bodies("H-1", object_id)[call]
    headers = await staff_headers(session)
    before = await _counts(session)
    answer = await client.post(path, json=_spoil(body, field, value), headers=headers)
    assert answer.status_code == 422, answer.text
    assert (field, code) in [(e["field"], e["code"]) for e in answer.json()["errors"]]
    assert "突发" not in answer.text
    assert await _counts(session) == before


@pytest.mark.parametrize("call", ["case", "campaign", "problem", "measure", "assessment"])
async def test_the_good_bodies_are_accepted(client, session, call):
    """The spoiled bodies above differ from a body that works in one field only."""
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    path, body = _bodies("H-1", object_id)[call]
    answer = await client.post(path, json=body, headers=await staff_headers(session))
    assert answer.status_code == 201, answer.text
