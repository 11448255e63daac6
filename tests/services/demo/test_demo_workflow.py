"""`warnex demo`: the monitoring workflow a county office tries first (SPEC §12):
requests up a province chain, natural eliminations, worklists, monthly visits."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx

from services.demo.report import DemoReport
from services.demo.workflow import DEMO_CHAIN
from shared import clock
from shared.db import Database
from shared.policy import get_policy, load_policy
from tests.services.demo.conftest import rows, token


async def test_requests_stand_at_several_levels_of_the_province_chain(
    api: httpx.AsyncClient, demo_db: Database, loaded: DemoReport
) -> None:
    county = token(loaded, "county_staff")
    page = await api.get("/identification/v1/requests", params={"limit": 500}, headers=county)
    assert page.status_code == 200, page.text
    requests = page.json()["items"]
    by_status: dict[tuple[str, str], int] = {}
    for request in requests:
        key = (request["kind"], request["status"])
        by_status[key] = by_status.get(key, 0) + 1
        assert [step["level"] for step in request["chain"]] == list(DEMO_CHAIN)
    assert by_status == {
        ("removal", "approved"): 1,
        ("rollback", "approved"): 1,
        ("rollback", "rejected"): 1,
        ("rollback", "pending"): 1,
    }
    done = {r["status"]: r for r in requests if r["kind"] == "rollback"}
    # Approved by every level, each with its 文号; rejected by the city; pending at the city.
    assert [s["decision"] for s in done["approved"]["chain"]] == ["approved"] * 3
    assert all(s["document_no"] for s in done["approved"]["chain"])
    assert [s["decision"] for s in done["rejected"]["chain"]] == ["approved", "rejected", None]
    assert [s["decision"] for s in done["pending"]["chain"]] == ["approved", None, None]
    pending = await api.get(
        "/identification/v1/requests", params={"status": "pending"}, headers=county
    )
    assert [r["request_id"] for r in pending.json()["items"]] == [done["pending"]["request_id"]]

    # The applied ones changed their objects, on the province's day.
    (removal,) = [r for r in requests if r["kind"] == "removal"]
    [(status, removed_on, approver)] = await rows(
        demo_db,
        "SELECT status, removed_on, removal_approved_by FROM monitoring_objects"
        " WHERE object_id = CAST(:id AS uuid)",
        id=removal["object_id"],
    )
    assert status == "removed" and approver.startswith("省级")
    assert removed_on == date.fromisoformat(removal["chain"][-1]["decided_on"])
    states = dict(
        await rows(
            demo_db,
            "SELECT object_id::text, status FROM monitoring_objects"
            " WHERE object_id = ANY(CAST(:ids AS uuid[]))",
            ids=[done[s]["object_id"] for s in ("approved", "rejected", "pending")],
        )
    )
    assert states[done["approved"]["object_id"]] == "risk_not_eliminated"
    assert states[done["rejected"]["object_id"]] == "risk_eliminated"
    assert states[done["pending"]["object_id"]] == "risk_eliminated"


async def test_the_demo_chain_is_the_documented_policy_and_is_not_left_behind(
    loaded: DemoReport,
) -> None:
    documented = load_policy(Path(__file__).parents[3] / "deploy/policy/province-chain.toml")
    for kind in ("rollback", "removal"):
        assert documented.requests.chain(kind) == list(DEMO_CHAIN)
    assert loaded.chain == list(DEMO_CHAIN)
    # The process's policy is the deployment's again (the shipped one-level chain).
    assert get_policy().requests.chain("rollback") == ["county"]


async def test_natural_eliminations_show_on_their_objects(
    api: httpx.AsyncClient, demo_db: Database, loaded: DemoReport
) -> None:
    natural = await rows(
        demo_db,
        "SELECT object_id::text FROM monitoring_objects"
        " WHERE eliminated_naturally AND status = 'risk_eliminated'",
    )
    assert natural
    county = token(loaded, "county_staff")
    for (object_id,) in natural:
        obj = await api.get(f"/assistance/v1/monitoring_objects/{object_id}", headers=county)
        assert obj.status_code == 200, obj.text
        assert obj.json()["elimination"]["natural"] is True
    assert loaded.counts["natural_eliminations"] == {"natural": len(natural)}


async def test_every_worklist_has_something_to_do(
    api: httpx.AsyncClient, demo_db: Database, loaded: DemoReport
) -> None:
    county = token(loaded, "county_staff")
    lists = {
        "ready_to_eliminate": "/assistance/v1/ready_to_eliminate",
        "rollback_candidates": "/assistance/v1/rollback_candidates",
        "follow_up": "/identification/v1/follow_up",
    }
    items = {}
    for name, path in lists.items():
        page = await api.get(path, params={"limit": 500}, headers=county)
        assert page.status_code == 200, page.text
        items[name] = page.json()["items"]
        assert items[name], f"{name} is empty"
        assert loaded.worklists[name] == len(items[name])
    statuses = dict(await rows(demo_db, "SELECT object_id::text, status FROM monitoring_objects"))
    assert {statuses[i["object_id"]] for i in items["ready_to_eliminate"]} == {
        "risk_not_eliminated"
    }
    assert {statuses[i["object_id"]] for i in items["rollback_candidates"]} == {"risk_eliminated"}
    assert all(i["reasons"] for i in items["rollback_candidates"])
    printed = "\n".join(loaded.lines())
    assert "ready_to_eliminate" in printed and "province-chain.toml" in printed


async def test_monthly_visits_are_recorded_and_overdue_ones_show_as_gaps(
    api: httpx.AsyncClient, demo_db: Database, loaded: DemoReport
) -> None:
    visits = dict(
        await rows(
            demo_db,
            "SELECT h.category, count(*) FROM household_visits v"
            " JOIN households h USING (county_code, household_id) GROUP BY 1",
        )
    )
    assert visits.get("poverty_alleviated", 0) >= 20
    county = token(loaded, "county_staff")
    gaps = await api.get(
        "/assistance/v1/gaps", params={"kind": "visit_overdue", "limit": 500}, headers=county
    )
    assert gaps.status_code == 200, gaps.text
    overdue = gaps.json()["items"]
    # Poverty-alleviated households without an object at risk are due a visit too.
    assert any(g["object_id"] is None for g in overdue)
    visited_lately = {
        h
        for (h,) in await rows(
            demo_db,
            "SELECT household_id FROM household_visits WHERE visited_on > :since",
            since=clock.today() - timedelta(days=30),
        )
    }
    assert visited_lately and not visited_lately & {g["household_id"] for g in overdue}
    # The visit that found a new risk opened a cadre_screening case that day or after.
    opened = await rows(
        demo_db,
        "SELECT c.source FROM household_visits v JOIN cases c"
        " ON c.county_code = v.county_code AND c.household_id = v.household_id"
        " AND c.opened_on >= v.visited_on WHERE v.new_risk",
    )
    assert [source for (source,) in opened] == ["cadre_screening"]
