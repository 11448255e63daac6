"""The four services as four processes on one PostgreSQL, as deploy/ runs them.

Each `warnex serve --service X` runs its own event consumers and jobs; the
processes share nothing but the database's schema and its events table. A
department's push to ingest becomes cases in identification, one of them is
decided, assistance plans a measure for the new monitoring object, and
reporting counts all of it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from shared import clock
from shared.db import Database
from tests.services.warning_ingest.ingest_helpers import person

ROOT = Path(__file__).resolve().parents[2]
PREFIXES = {
    "warning_ingest": "/ingest/v1",
    "identification": "/identification/v1",
    "assistance": "/assistance/v1",
    "reporting": "/reporting/v1",
}
COUNTY = "610326000000"
VILLAGE = "610326100201"
STAFF_OPTIONS = ("--role", "county_staff", "--region", COUNTY, "--name", "县级干部")
REGIONS_CSV = (
    "code,name\n610000000000,陕西省\n610300000000,宝鸡市\n610326000000,眉县\n"
    "610326100000,首善街道\n610326100201,城关村\n"
)


# --------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def warnex_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """A production-like environment: an external database and the tests' secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARNEX_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=database_url,
        WARNEX_SECRET_KEY=os.environ["WARNEX_SECRET_KEY"],
        WARNEX_DATA_DIR=str(data_dir),
        WARNEX_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def warnex_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "shared.cli", *args]


class Servers:
    """`warnex serve --service X` processes, each on a port of its own."""

    def __init__(self) -> None:
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}
        self.logs: dict[str, Path] = {}

    def start(self, key: str, service: str, env: dict[str, str], log_dir: Path) -> None:
        port = free_port()
        log = log_dir / f"{key}.log"
        with log.open("wb") as handle:
            self.processes[key] = subprocess.Popen(
                warnex_command("serve", "--service", service, "--port", str(port)),
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=handle,
            )
        self.ports[key], self.logs[key] = port, log

    def url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.ports[key]}"

    async def ready(self, key: str, prefix: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url(key), timeout=2) as client:
            while time.monotonic() < deadline:
                if self.processes[key].poll() is not None:
                    raise AssertionError(f"{key} exited: {self.logs[key].read_text()[-2000:]}")
                try:
                    response = await client.get(f"{prefix}/readyz")
                    if response.status_code == 200:
                        return dict(response.json())
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"{key} was not ready in {timeout} s")

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def servers() -> Any:
    started = Servers()
    try:
        yield started
    finally:
        started.stop_all()


async def run_cli(env: dict[str, str], *args: str) -> str:
    """Run a `warnex` command; return its standard output (a token is its last line)."""
    process = await asyncio.create_subprocess_exec(
        *warnex_command(*args),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 120)
    except TimeoutError:
        process.kill()
        _, err = await process.communicate()
        raise AssertionError(f"warnex {' '.join(args[:2])} hung: {err.decode()[-2000:]}") from None
    assert process.returncode == 0, err.decode()[-2000:]
    return out.decode()


async def poll(
    check: Callable[[], Any], *, what: str, timeout: float = 60, every: float = 0.3
) -> Any:
    """Call `check` until it answers something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


async def consumed(url: str, check: Callable[[], Any], *, what: str) -> Any:
    """`poll` for something the event consumers make.

    Consumers read only below the oldest running transaction of the whole
    server (shared/events.py), another database's included. When such a
    transaction outlived the wait, nothing this test does could pass on that
    server (a shared one, where someone's test hangs): skip, saying so.
    """
    try:
        return await poll(check, what=what)
    except AssertionError as exc:
        conn = await asyncpg.connect(url)
        try:
            row = await conn.fetchrow(
                "SELECT datname, datname = current_database() AS ours,"
                " extract(epoch FROM now() - xact_start)::int AS age"
                " FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                " ORDER BY xact_start LIMIT 1"
            )
        finally:
            await conn.close()
        if row is not None and not row["ours"] and row["age"] > 60:
            pytest.skip(
                f"{exc}: a transaction on {row['datname']} has been open for {row['age']} s"
                " and holds back every event consumer on this server"
            )
        raise


# ---------------------------------------------------------------- the flow


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def household(household_id: str, seq: int, name: str) -> dict[str, Any]:
    return {
        "household_id": household_id,
        "region_code": VILLAGE,
        "category": "general",
        "head_name": name,
        "members": [
            {"id_number": person(seq), "name": name, "relation": "head", "labour_capacity": "full"}
        ],
    }


def medical_record(source_record_id: str, seq: int, name: str) -> dict[str, Any]:
    # 50,000 yuan: above the medical-expense threshold of every category (18,684 at most).
    return {
        "source_record_id": source_record_id,
        "warning_type": "high_medical_expense",
        "id_number": person(seq),
        "name": name,
        "region_code": VILLAGE,
        "amount_yuan": 50000,
    }


async def test_a_push_to_ingest_ends_as_cases_an_object_a_measure_and_figures_across_four_processes(
    fresh_db: Database, servers: Servers, tmp_path: Path
) -> None:
    env = warnex_env(fresh_db.url, tmp_path / "data", WARNEX_CONSUMER_POLL_SECONDS="0.5")
    for service in PREFIXES:
        servers.start(service, service, env, tmp_path)
    regions_file = tmp_path / "regions.csv"
    regions_file.write_text(REGIONS_CSV)
    # The operator's first steps, while the services start: the regions, then
    # the tokens (a user's scope must be a loaded region).
    regions_out = await run_cli(env, "import", "regions", str(regions_file))
    client_out, staff_out = await asyncio.gather(
        run_cli(env, "admin", "create-client", "--department", "medical_insurance"),
        run_cli(env, "admin", "create-user", *STAFF_OPTIONS),
    )
    assert "5 upserted, 0 rejected" in regions_out
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
