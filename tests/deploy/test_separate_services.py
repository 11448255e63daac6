"""The four services as four processes on one PostgreSQL, as deploy/ runs them.

Each `warnex serve --service X` runs its own event consumers and jobs; the
processes share nothing but the database's schema and its events table. A
department's push to ingest becomes cases in identification, one of them is
decided, assistance plans a measure for the new monitoring object, and
reporting counts all of it.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared import clock
from shared.db import Database
from tests.deploy.process_helpers import (
    COUNTY,
    PREFIXES,
    REGIONS_CSV,
    STAFF_OPTIONS,
    Servers,
    bearer,
    consumed,
    household,
    medical_record,
    ok,
    run_cli,
    warnex_env,
)


@pytest.fixture
def servers() -> Any:
    started = Servers()
    try:
        yield started
    finally:
        started.stop_all()


async def test_a_push_to_ingest_ends_as_cases_an_object_a_measure_and_figures_across_four_processes(
    fresh_db: Database, servers: Servers, tmp_path: Path
) -> None:
    env = warnex_env(fresh_db.url, tmp_path / "data", WARNEX_CONSUMER_POLL_SECONDS="0.5")
    for service in PREFIXES:
        servers.start(service, service, env, tmp_path)
    regions_file = tmp_path / "regions.csv"
    regions_file.write_text(REGIONS_CSV)
    # The operator's first steps, while the services start: the regions, then the
    # tokens (create-user refuses a scope whose region is not loaded yet).
    regions_out = await run_cli(env, "import", "regions", str(regions_file))
    assert "5 upserted, 0 rejected" in regions_out
    client_out, staff_out = await asyncio.gather(
        run_cli(env, "admin", "create-client", "--department", "medical_insurance"),
        run_cli(env, "admin", "create-user", *STAFF_OPTIONS),
    )
    department = bearer(client_out.strip().splitlines()[-1])
    staff = bearer(staff_out.strip().splitlines()[-1])
    for service, prefix in PREFIXES.items():
        assert (await servers.ready(service, prefix))["status"] == "ready"

    today = clock.today()
    day = lambda n: (today - timedelta(days=n)).isoformat()  # noqa: E731
    ingest = httpx.AsyncClient(base_url=servers.url("warning_ingest"), timeout=30)
    identification = httpx.AsyncClient(base_url=servers.url("identification"), timeout=30)
    assistance = httpx.AsyncClient(base_url=servers.url("assistance"), timeout=30)
    reporting = httpx.AsyncClient(base_url=servers.url("reporting"), timeout=30)
    try:
        # Each process answers its own prefix only.
        assert (await ingest.get("/identification/v1/healthz")).status_code == 404
        assert (await reporting.get("/ingest/v1/healthz")).status_code == 404

        loaded = ok(
            await ingest.post(
                "/ingest/v1/registry/households",
                json={
                    "households": [household("HH-1", 1, "赵德明"), household("HH-2", 2, "钱秀英")]
                },
                headers=staff,
            )
        )
        assert (loaded["upserted"], loaded["rejected"]) == (2, 0)
        # HH-1 self-reported 14 days ago, so its case can be walked through a
        # 5-day notice by today; HH-2 has no case until the department's push.
        manual = ok(
            await identification.post(
                "/identification/v1/cases",
                json={
                    "household_id": "HH-1",
                    "source": "self_report",
                    "found_on": day(14),
                    "description": "家中有人住院",
                },
                headers=staff,
            ),
            201,
        )

        receipt = ok(
            await ingest.post(
                "/ingest/v1/batches",
                json={
                    "records": [
                        medical_record("MI-1", 1, "赵德明"),
                        medical_record("MI-2", 2, "钱秀英"),
                    ]
                },
                headers=department,
            ),
            201,
        )
        assert receipt["accepted"] == 2, receipt
        warning_1, warning_2 = (r["warning_id"] for r in receipt["records"])

        # identification's consumer, in its own process, attaches the first
        # warning to HH-1's case and opens a case for HH-2.
        async def cases_with_both_warnings() -> dict[str, Any] | None:
            page = ok(await identification.get("/identification/v1/cases", headers=staff))
            by_household = {c["household_id"]: c for c in page["items"]}
            if warning_1 in by_household.get("HH-1", {}).get("warning_ids", []) and (
                warning_2 in by_household.get("HH-2", {}).get("warning_ids", [])
            ):
                return by_household
            return None

        cases = await consumed(
            fresh_db.url, cases_with_both_warnings, what="cases for the pushed warnings"
        )
        assert cases["HH-1"]["case_id"] == manual["case_id"]
        opened = cases["HH-2"]
        assert (opened["source"], opened["opened_on"], opened["state"]) == (
            "department_warning",
            today.isoformat(),
            "open",
        )

        case_url = f"/identification/v1/cases/{manual['case_id']}/steps"
        steps = {
            "household_visit": {
                "visited_on": day(13),
                "income_per_capita_yuan": 5200.5,
                "rigid_expenditure_yuan": 31000,
                "housing_secure": True,
                "education_secure": True,
                "medical_secure": False,
                "drinking_water_secure": True,
                "authorisation_signed": True,
                "eligible": True,
            },
            "village_review": {
                "reviewed_on": day(12),
                "notice_start": day(11),
                "notice_end": day(7),
                "objections": False,
            },
            "township_review": {"reviewed_on": day(6), "approved": True},
            "county_approval": {
                "approved_on": day(5),
                "comparison_waived": False,
                "outcome": "included",
                "monitoring_type": "marginal",
                "risk_types": ["illness"],
            },
        }
        for step, body in steps.items():
            decided = ok(await identification.post(f"{case_url}/{step}", json=body, headers=staff))
        assert (decided["state"], decided["decision"]["outcome"]) == ("decided", "included")

        objects_url = "/identification/v1/monitoring_objects"
        objects = ok(await identification.get(objects_url, headers=staff))
        [monitored] = objects["items"]
        assert (monitored["household_id"], monitored["included_on"]) == ("HH-1", day(5))

        # assistance, in its own process, sees the object identification wrote.
        measure = ok(
            await assistance.post(
                "/assistance/v1/measures",
                json={
                    "object_id": monitored["object_id"],
                    "category": "medical_assistance",
                    "responsible_department": "medical_insurance",
                    "planned_on": today.isoformat(),
                },
                headers=staff,
            ),
            201,
        )
        assert (measure["household_id"], measure["status"]) == ("HH-1", "planned")

        # And back to the department: ingest's consumer hears of the decision.
        async def included_feedback() -> bool:
            page = ok(await ingest.get("/ingest/v1/feedback", headers=department))
            return any(
                i["source_record_id"] == "MI-1" and i["outcome"] == "included"
                for i in page["items"]
            )

        await consumed(fresh_db.url, included_feedback, what="the department's feedback on MI-1")

        # reporting's summaries consumer, in its own process, has counted the measure.
        period = {"date_from": day(30), "date_to": today.isoformat()}

        async def overview_with_the_measure() -> dict[str, Any] | None:
            body = ok(await reporting.get("/reporting/v1/overview", params=period, headers=staff))
            return body if body["measures"]["by_status"]["planned"] else None

        overview = await consumed(
            fresh_db.url, overview_with_the_measure, what="the measure in the figures"
        )
        assert overview["region"] == COUNTY
        warnings = overview["warnings"]
        assert (warnings["received"], warnings["matched"], warnings["unmatched"]) == (2, 2, 0)
        assert warnings["by_type"]["high_medical_expense"] == 2
        assert warnings["by_department"]["medical_insurance"] == 2
        figures = overview["cases"]
        assert (figures["opened"], figures["decided"], figures["open"]) == (2, 1, 1)
        assert figures["decided_within_15_days"] == 1
        objects_figures = overview["monitoring_objects"]
        assert objects_figures["by_type"]["marginal"] == 1
        assert objects_figures["by_status"]["risk_not_eliminated"] == 1
        assert overview["measures"]["by_category"]["medical_assistance"] == 1
    finally:
        for client in (ingest, identification, assistance, reporting):
            await client.aclose()
