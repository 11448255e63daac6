"""`warnex demo --size small`: what a newcomer relies on after loading it.

The demo is loaded once into a fresh database for the whole package (conftest.py; it takes
a while); each test then reads what it needs through the API or SQL.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from services.demo.load import DemoRefused, load_demo
from services.demo.registry import generate, plan_registry, region_records
from services.demo.report import DemoReport
from services.demo.sizes import SIZES
from shared import clock
from shared.cli import app as cli_app
from shared.dates import longest_period_start
from shared.db import Database
from shared.idcard import parse_id_number
from shared.pii import PiiProtector
from shared.settings import get_settings
from tests.services.demo.conftest import SEED, rows, token


async def test_the_registry_has_the_small_county_and_valid_id_numbers(
    demo_db: Database, loaded: DemoReport
) -> None:
    levels = dict(await rows(demo_db, "SELECT level, count(*) FROM regions GROUP BY level"))
    assert levels == {"province": 1, "city": 1, "county": 1, "town": 3, "village": 20}
    categories = dict(
        await rows(demo_db, "SELECT category, count(*) FROM households GROUP BY category")
    )
    assert sum(categories.values()) == SIZES["small"].households == 2000
    # About 8% poverty-alleviated (villages range from 2% to 14%).
    assert 0.04 <= categories["poverty_alleviated"] / 2000 <= 0.12
    members = await rows(
        demo_db,
        "SELECT m.id_sealed, m.birth_date, m.sex, m.name, h.region_code FROM members m"
        " JOIN households h USING (county_code, household_id)",
    )
    assert 3 * 2000 <= len(members) <= 4 * 2000  # about 3.4 persons per household
    protector = PiiProtector.from_secret(get_settings().secret_bytes())
    numbers = set()
    for sealed, born, sex, name, region in members:
        resident = parse_id_number(protector.open(sealed), today=date.today())
        assert (resident.birth_date, resident.sex) == (born, sex)
        assert resident.division_code == region[:6] == "610326"
        assert 2 <= len(name) <= 3 and all("\u4e00" <= ch <= "\u9fff" for ch in name)
        numbers.add(resident.number)
    assert len(numbers) == len(members)


def _digest(regions: list[Any], households: list[Any]) -> str:
    digest = hashlib.sha256()
    for row in [*sorted(regions), *sorted(households)]:
        digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _generated_digest(seed: int) -> str:
    registry = plan_registry(seed, SIZES["small"])
    households = [
        (h["household_id"], h["region_code"], h["category"], h["head_name"], len(h["members"]))
        for h in generate(registry, seed, SIZES["small"])
    ]
    regions = [(r["code"], r["name"]) for r in region_records(registry)]
    return _digest(regions, households)


async def test_the_same_seed_gives_the_same_registry(demo_db: Database, loaded: DemoReport) -> None:
    regions = await rows(demo_db, "SELECT code, name FROM regions")
    households = await rows(
        demo_db,
        "SELECT h.household_id, h.region_code, h.category, h.head_name, count(*)"
        " FROM households h JOIN members m USING (county_code, household_id)"
        " GROUP BY h.household_id, h.region_code, h.category, h.head_name",
    )
    loaded_digest = _digest(regions, households)
    assert loaded_digest == _generated_digest(SEED)
    assert loaded_digest != _generated_digest(SEED + 1)


async def test_cases_stand_in_every_step_and_state(
    api: httpx.AsyncClient, demo_db: Database, loaded: DemoReport
) -> None:
    county = token(loaded, "county_staff")
    for state in ("overdue", "due_soon", "open", "decided"):
        page = await api.get("/identification/v1/cases", params={"state": state}, headers=county)
        assert page.status_code == 200, page.text
        assert page.json()["items"], f"no {state} case"
    overdue = (
        await api.get("/identification/v1/cases", params={"state": "overdue"}, headers=county)
    ).json()["items"]
    assert all(c["overdue"] and c["days_left"] < 0 for c in overdue)
    steps = dict(await rows(demo_db, "SELECT step, count(*) FROM case_steps GROUP BY step"))
    assert set(steps) == {"household_visit", "village_review", "township_review", "county_approval"}
    outcomes = {outcome for (outcome,) in await rows(demo_db, "SELECT DISTINCT outcome FROM cases")}
    assert {"included", "not_included", "not_eligible", None} <= outcomes
    sources = {s for (s,) in await rows(demo_db, "SELECT DISTINCT source FROM cases")}
    assert sources == {"department_warning", "self_report", "cadre_screening"}
    # Open cases at each stage: nothing done yet, visited, reviewed.
    progress = {
        len(done)
        for (done,) in await rows(demo_db, "SELECT steps_done FROM cases WHERE state = 'open'")
    }
    assert {0, 1} <= progress and max(progress) >= 2
    green = await rows(demo_db, "SELECT count(*) FROM cases WHERE green_channel")
    assert green[0][0] >= 1


async def test_monitoring_objects_of_every_type_and_status_with_their_assistance(
    api: httpx.AsyncClient, demo_db: Database, loaded: DemoReport
) -> None:
    objects = await rows(
        demo_db,
        "SELECT monitoring_type, status, rolled_back_on IS NOT NULL FROM monitoring_objects",
    )
    assert {t for t, _, _ in objects} == {"unstable_alleviated", "marginal", "sudden_hardship"}
    assert {s for _, s, _ in objects} == {"risk_not_eliminated", "risk_eliminated", "removed"}
    # The rollback: an eliminated object back under risk.
    assert ("risk_not_eliminated", True) in {(s, back) for _, s, back in objects}
    for table in ("measures", "assessments"):
        assert (await rows(demo_db, f"SELECT count(*) FROM {table}"))[0][0] > 0
    measure_states = {s for (s,) in await rows(demo_db, "SELECT DISTINCT status FROM measures")}
    assert {"planned", "in_progress", "completed"} <= measure_states
    gaps = await api.get("/assistance/v1/gaps", headers=token(loaded, "county_staff"))
    assert gaps.status_code == 200 and gaps.json()["items"]


async def test_feeds_show_a_late_department_and_the_warnings_their_kinds(
    api: httpx.AsyncClient, demo_db: Database, loaded: DemoReport
) -> None:
    feeds = await api.get("/ingest/v1/feeds", headers=token(loaded, "county_staff"))
    assert feeds.status_code == 200
    state = {(f["department"], f["warning_type"]): f["state"] for f in feeds.json()["items"]}
    assert state[("water", "unsafe_drinking_water")] == "late"
    assert state[("human_resources", "unemployment")] == "due_soon"
    assert state[("medical_insurance", "high_medical_expense")] == "on_time"
    assert "never_pushed" not in state.values()
    statuses = dict(await rows(demo_db, "SELECT status, count(*) FROM warnings GROUP BY status"))
    assert statuses.keys() >= {"matched", "unmatched", "below_threshold"}
    late = await rows(demo_db, "SELECT DISTINCT warning_type FROM warnings WHERE late")
    assert late and {t for (t,) in late} <= {"disaster", "school_dropout", "industry_risk"}
    # A zero report: a batch with no records.
    zero = await rows(demo_db, "SELECT count(*) FROM ingest_batches WHERE record_count = 0")
    assert zero[0][0] >= 1


async def test_every_printed_token_works(api: httpx.AsyncClient, loaded: DemoReport) -> None:
    reads = {
        "county_staff": "/identification/v1/cases?limit=1",
        "township_staff": "/identification/v1/cases?limit=1",
        "village_staff": "/identification/v1/monitoring_objects?limit=1",
        "viewer": "/reporting/v1/overview",
        "admin": "/ingest/v1/catalog",
        "client": "/ingest/v1/feeds",
    }
    assert len(loaded.tokens) == 5 + 10  # five roles and ten departments
    for label, value in loaded.tokens.items():
        path = reads[label.split()[0]]
        response = await api.get(path, headers={"Authorization": f"Bearer {value}"})
        assert response.status_code == 200, (label, response.status_code)
    printed = "\n".join(loaded.lines())
    assert "/reporting/v1/dashboard" in printed and "/ingest/v1/docs" in printed
    assert all(value in printed for value in loaded.tokens.values())


async def test_a_second_run_refuses_and_changes_nothing(
    demo_db: Database, loaded: DemoReport
) -> None:
    count = "SELECT (SELECT count(*) FROM households), (SELECT count(*) FROM principals)"
    before = await rows(demo_db, count)
    with pytest.raises(DemoRefused, match="not empty"):
        await load_demo(demo_db, seed=SEED, size="small")
    assert await rows(demo_db, count) == before


def test_warnex_demo_help_lists_its_options() -> None:
    result = CliRunner().invoke(cli_app, ["demo", "--help"], env={**os.environ, "COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--seed", "--size", "small", "county", "province"):
        assert option in result.output


async def test_a_screening_campaign_is_in_progress(
    api: httpx.AsyncClient, loaded: DemoReport
) -> None:
    county = token(loaded, "county_staff")
    [campaign] = (await api.get("/identification/v1/campaigns", headers=county)).json()["items"]
    assert campaign["late"] is False
    phases = {phase["kind"]: phase for phase in campaign["phases"]}
    assert phases["mobilisation"]["done_on"] is not None
    path = f"/identification/v1/campaigns/{campaign['campaign_id']}"

    coverage = (await api.get(f"{path}/coverage", headers=county)).json()["items"]
    households = sum(row["households"] for row in coverage)
    screened = sum(row["screened"] for row in coverage)
    assert 0.8 * households < screened < households  # most screened, a few villages behind
    unscreened = (await api.get(f"{path}/unscreened", headers=county)).json()["items"]
    assert unscreened

    [sample] = (await api.get(f"{path}/spot_checks", headers=county)).json()["items"]
    checked = await api.get(f"{path}/spot_checks/{sample['spot_check_id']}", headers=county)
    assert any(h["checked"] for h in checked.json()["households"])

    problems = (await api.get("/identification/v1/problems", headers=county)).json()["items"]
    statuses = {p["status"] for p in problems}
    assert statuses == {"open", "rectified"} and any(p["overdue"] for p in problems)

    table = await api.get(
        "/reporting/v1/progress_table",
        params={"campaign_id": campaign["campaign_id"]},
        headers=token(loaded, "viewer"),
    )
    assert table.status_code == 200, table.text


async def test_the_dashboard_figures_count_what_the_demo_did(
    api: httpx.AsyncClient, demo_db: Database, loaded: DemoReport
) -> None:
    """The reporting summaries were kept current through the demo's events."""
    overview = await api.get(
        "/reporting/v1/overview",
        params={"date_from": str(longest_period_start(clock.today()))},
        headers=token(loaded, "viewer"),
    )
    figures = overview.json()
    [(cases, objects, warnings)] = await rows(
        demo_db,
        "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM monitoring_objects),"
        " (SELECT count(*) FROM warnings)",
    )
    assert figures["cases"]["opened"] == cases > 0
    assert sum(figures["monitoring_objects"]["by_status"].values()) == objects > 0
    assert figures["warnings"]["received"] == warnings > 0


# -- the monitoring workflow (SPEC §12) ------------------------------------------


async def test_key_areas_are_loaded_with_the_regions_and_flagged(
    api: httpx.AsyncClient, demo_db: Database, loaded: DemoReport
) -> None:
    """The demo's county has a key village, a resettlement site and an abandoned
    mine area, loaded with its regions, so the red flags' `key_area_regions` shows
    them; and one village of households without a poverty-alleviated one."""
    response = await api.get(
        "/reporting/v1/red_flags",
        params={"region": "610326000000"},
        headers=token(loaded, "county_staff"),
    )
    assert response.status_code == 200, response.text
    key_areas = response.json()["key_area_regions"]
    assert len(key_areas) == 3
    assert {a for area in key_areas for a in area["attributes"]} == {
        "key_village",
        "resettlement_site",
        "abandoned_mine",
    }
    loaded_attributes = dict(
        await rows(demo_db, "SELECT code, attributes FROM regions WHERE attributes <> '{}'")
    )
    assert {a["region_code"]: a["attributes"] for a in key_areas} == loaded_attributes
    villages = dict(await rows(demo_db, "SELECT code, name FROM regions WHERE level = 'village'"))
    assert all(villages[a["region_code"]] == a["region_name"] for a in key_areas)
    (village,) = response.json()["no_alleviated_villages"]
    categories = dict(
        await rows(
            demo_db,
            "SELECT category, count(*) FROM households WHERE region_code = :code GROUP BY category",
            code=village["region_code"],
        )
    )
    assert set(categories) == {"general"} and categories["general"] > 0
    assert villages[village["region_code"]] == village["region_name"]
