"""The `warnex` command: tokens made and revoked from the shell, migrations, the URL.

Each command runs in-process through typer's CliRunner, against a fresh database
with real commits. The CLI calls asyncio.run, which cannot run inside the
test's event loop, so it runs in a worker thread (`warnex` below).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import httpx
import pytest
from click.testing import Result
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from shared import cli
from shared.auth import CurrentPrincipal, hash_token
from shared.cli_admin import DEPARTMENTS
from shared.db import Database, get_database, get_session, use_database
from shared.errors import install_error_handlers
from shared.migrate import head_revision
from shared.models import AuditRecord
from shared.models import Principal as PrincipalRow
from shared.settings import decode_secret, reset_settings


def run_cli(args: Sequence[str], env: dict[str, str | None]) -> Result:
    """Run `warnex ARGS` in this process with `env` added to the environment."""
    # The test session may have installed its own database as the process's;
    # the command must open the one DATABASE_URL names, and close it again.
    try:
        installed: Database | None = get_database()
    except RuntimeError:
        installed = None
    use_database(None)
    reset_settings()
    try:
        return CliRunner().invoke(cli.app, list(args), env=env)
    finally:
        reset_settings()
        use_database(installed)


@pytest.fixture
def cli_env(fresh_db: Database) -> dict[str, str | None]:
    return {"DATABASE_URL": fresh_db.url, "WARNEX_SECRET_KEY": os.environ["WARNEX_SECRET_KEY"]}


@pytest.fixture
def warnex(cli_env: dict[str, str | None]):
    async def invoke(*args: str, exit_code: int | None = 0) -> Result:
        result = await asyncio.to_thread(run_cli, args, cli_env)
        if exit_code is not None:
            assert result.exit_code == exit_code, (result.stdout, result.stderr, result.exception)
        return result

    return invoke


def whoami_app(database: Database) -> FastAPI:
    """An app with one authenticated route, on the fresh database."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str | None]:
        return {
            "id": str(principal.id),
            "kind": principal.kind,
            "department": principal.department,
            "role": principal.role,
            "region_code": principal.region_code,
        }

    async def session() -> AsyncIterator[AsyncSession]:
        async with database.transaction() as s:
            yield s

    app.dependency_overrides[get_session] = session
    return app


@pytest.fixture
async def api(fresh_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=whoami_app(fresh_db))
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as c:
        yield c


# What `warnex import regions` would have loaded: a province down to a village.
KNOWN_REGIONS = (
    "('610000000000', '陕西省', 'province', NULL),"
    " ('610300000000', '宝鸡市', 'city', '610000000000'),"
    " ('610326000000', '眉县', 'county', '610300000000'),"
    " ('610326100000', '首善街道', 'town', '610326000000'),"
    " ('610326100201', '第一村', 'village', '610326100000')"
)


@pytest.fixture
async def known_regions(fresh_db: Database) -> None:
    async with fresh_db.transaction() as s:
        await s.execute(
            text(f"INSERT INTO regions (code, name, level, parent_code) VALUES {KNOWN_REGIONS}")
        )


def create_user(role: str, region: str, name: str) -> list[str]:
    return ["admin", "create-user", "--role", role, "--region", region, "--name", name]


def token_of(result: Result) -> str:
    """The token: alone on the last line of standard output."""
    last = result.stdout.rstrip("\n").split("\n")[-1]
    assert last == last.strip() and " " not in last
    assert last.startswith("wx_")
    return last


async def audit_rows(database: Database, target_id: str) -> list[AuditRecord]:
    async with database.transaction() as s:
        query = select(AuditRecord).where(AuditRecord.target_id == target_id)
        return list((await s.execute(query)).scalars())


async def revoked_at(database: Database, principal_id: str) -> datetime | None:
    async with database.transaction() as s:
        row = await s.get(PrincipalRow, uuid.UUID(principal_id))
    assert row is not None
    return row.revoked_at


async def test_create_client_prints_a_token_that_authenticates(warnex, api, fresh_db):
    result = await warnex("admin", "create-client", "--department", "civil_affairs")
    token = token_of(result)
    assert token not in result.stderr

    async with fresh_db.transaction() as s:
        query = select(PrincipalRow).where(PrincipalRow.token_hash == hash_token(token))
        row = (await s.execute(query)).scalar_one()
    assert (row.kind, row.department, row.name) == ("client", "civil_affairs", "civil_affairs")
    assert row.expires_at is None

    response = await api.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {
        "id": str(row.id),
        "kind": "client",
        "department": "civil_affairs",
        "role": None,
        "region_code": None,
    }
    [audit] = await audit_rows(fresh_db, str(row.id))
    assert (audit.actor, audit.action, audit.target_type) == (
        "cli",
        "principal.created",
        "principal",
    )
    assert token not in str(audit.details)


async def test_create_client_takes_a_name_and_an_expiry(warnex, fresh_db):
    options = ["--name", "市医保局 接口", "--expires-days", "30"]
    result = await warnex("admin", "create-client", "--department", "medical_insurance", *options)
    async with fresh_db.transaction() as s:
        query = select(PrincipalRow).where(PrincipalRow.token_hash == hash_token(token_of(result)))
        row = (await s.execute(query)).scalar_one()
    assert row.name == "市医保局 接口"
    assert row.expires_at is not None
    assert 29 <= (row.expires_at - row.created_at).days <= 30


async def test_an_unknown_department_exits_non_zero_and_creates_nothing(warnex, fresh_db):
    result = await warnex("admin", "create-client", "--department", "police", exit_code=2)
    assert "police" in result.stderr
    assert "civil_affairs" in result.stderr  # the message lists the known codes
    assert result.stdout == ""
    async with fresh_db.transaction() as s:
        assert (await s.execute(select(PrincipalRow))).first() is None


def test_the_department_codes_are_the_ten_of_the_catalog():
    assert len(DEPARTMENTS) == len(set(DEPARTMENTS)) == 10


async def test_create_user_prints_a_token_with_the_role_and_scope(warnex, api, known_regions):
    result = await warnex(*create_user("county_staff", "610326000000", "张三"))
    response = await api.get("/me", headers={"Authorization": f"Bearer {token_of(result)}"})
    assert response.status_code == 200
    body = response.json()
    assert (body["kind"], body["role"], body["region_code"]) == (
        "user",
        "county_staff",
        "610326000000",
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "county_staff", "--region", "610326", "--name", "x"],
        ["--role", "county_staff", "--region", "610326000001", "--name", "x"],
        ["--role", "mayor", "--region", "610326000000", "--name", "x"],
        ["--role", "viewer", "--region", "610326000000", "--name", " "],
        ["--role", "viewer", "--region", "610326000000", "--name", "x" * 101],
        ["--role", "viewer", "--region", "610326000000"],
        ["--role", "viewer", "--region", "610326000000", "--name", "x", "--expires-days", "0"],
    ],
    ids=["short-region", "malformed-region", "role", "blank-name", "long-name", "no-name", "0d"],
)
async def test_create_user_refuses_bad_options(warnex, args):
    result = await warnex("admin", "create-user", *args, exit_code=2)
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("role", "region", "why"),
    [
        ("county_staff", "610300000000", "works for a county; 610300000000 is a city"),
        ("county_staff", "610326100000", "is a town"),
        ("township_staff", "610326000000", "works for a town"),
        ("village_staff", "610326100000", "works for a village"),
        ("county_staff", "610327000000", "not a loaded region"),
        ("viewer", "620000000000", "not a loaded region"),
        ("viewer", "610000000000", None),
        ("admin", "610300000000", None),
        ("village_staff", "610326100201", None),
    ],
)
async def test_create_user_takes_only_a_loaded_region_of_the_roles_level(
    warnex, fresh_db, known_regions, role, region, why
):
    result = await warnex(*create_user(role, region, "赵六"), exit_code=None)
    async with fresh_db.transaction() as s:
        created = list((await s.execute(select(PrincipalRow))).scalars())
    if why is None:
        assert (result.exit_code, len(created)) == (0, 1)
        return
    # rich draws the message in a box, wrapped: read it as plain words.
    assert why in " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())
    assert (result.exit_code, created) == (2, [])


async def test_revoke_by_token_makes_the_token_fail_at_once(warnex, api, fresh_db):
    token = token_of(await warnex("admin", "create-client", "--department", "housing"))
    headers = {"Authorization": f"Bearer {token}"}
    principal_id = (await api.get("/me", headers=headers)).json()["id"]

    result = await warnex("admin", "revoke", token)
    assert principal_id in result.stderr
    assert token not in result.stdout + result.stderr

    assert (await api.get("/me", headers=headers)).status_code == 401
    actions = sorted(a.action for a in await audit_rows(fresh_db, principal_id))
    assert actions == ["principal.created", "principal.revoked"]


async def test_revoke_by_principal_id_and_again_changes_nothing(
    warnex, api, fresh_db, known_regions
):
    token = token_of(await warnex(*create_user("viewer", "610326000000", "李四")))
    headers = {"Authorization": f"Bearer {token}"}
    principal_id = (await api.get("/me", headers=headers)).json()["id"]

    await warnex("admin", "revoke", principal_id)
    assert (await api.get("/me", headers=headers)).status_code == 401
    first = await revoked_at(fresh_db, principal_id)
    assert first is not None

    again = await warnex("admin", "revoke", principal_id)
    assert "already revoked" in again.stderr
    assert await revoked_at(fresh_db, principal_id) == first
    revocations = [a for a in await audit_rows(fresh_db, principal_id) if "revoked" in a.action]
    assert len(revocations) == 1


async def test_revoke_of_an_unknown_token_or_id_fails_without_echoing_it(warnex):
    for target in ("wx_no-such-token-was-ever-issued", str(uuid.uuid4())):
        result = await warnex("admin", "revoke", target, exit_code=1)
        assert target not in result.stdout + result.stderr


async def test_list_principals_shows_who_without_tokens(warnex, fresh_db, known_regions):
    client = token_of(await warnex("admin", "create-client", "--department", "water"))
    user = token_of(await warnex(*create_user("township_staff", "610326100000", "王五")))
    await warnex("admin", "revoke", user)

    listing = (await warnex("admin", "list-principals")).stdout
    async with fresh_db.transaction() as s:
        rows = list((await s.execute(select(PrincipalRow))).scalars())
    assert len(rows) == 2
    for row in rows:
        assert str(row.id) in listing  # whole, so that it can be pasted into `revoke`
        assert row.token_hash.hex() not in listing
    for expected in ("water", "王五", "township_staff", "610326100000"):
        assert expected in listing
    for token in (client, user):
        assert token not in listing
        assert token.removeprefix("wx_")[:12] not in listing
    revoked = next(line for line in listing.splitlines() if "王五" in line)
    assert len(re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", revoked)) == 2  # created, revoked


async def test_new_secret_prints_a_usable_secret_key(warnex):
    result = await warnex("admin", "new-secret")
    secret = result.stdout.strip()
    assert len(decode_secret(secret)) == 32
    assert (await warnex("admin", "new-secret")).stdout.strip() != secret


async def test_migrate_is_idempotent(warnex):
    for _ in range(2):
        result = await warnex("migrate")
        assert f"schema at {head_revision()}" in result.stdout


def test_db_url_prints_the_database_url_in_use():
    url = "postgresql+asyncpg://warnex:pw@db.example:5432/warnex"
    env = {"DATABASE_URL": url, "WARNEX_SECRET_KEY": os.environ["WARNEX_SECRET_KEY"]}
    result = run_cli(["db", "url"], env)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "postgresql://warnex:pw@db.example:5432/warnex"


def test_an_external_database_without_a_secret_refuses_to_start():
    url = "postgresql://warnex:hunter2@db.example/warnex"
    result = run_cli(["migrate"], {"DATABASE_URL": url, "WARNEX_SECRET_KEY": None})
    assert result.exit_code == 2
    assert "refusing to start" in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


async def test_a_real_process_prints_the_token_alone_on_standard_output(cli_env):
    # What a script reading the process's stdout gets, with no test harness between.
    code = "import sys; from shared.cli import main; sys.argv[0] = 'warnex'; main()"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code, "admin", "create-client", "--department", "education"],
        env={**os.environ, **cli_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("wx_")


class _JobEntryPoint:
    """Stands in for a `warnex.jobs` entry point a service declares."""

    def __init__(self, job: object) -> None:
        self.job = job

    def load(self) -> object:
        return self.job


async def test_jobs_run_runs_the_named_job_now_and_records_the_run(warnex, fresh_db, monkeypatch):
    from datetime import timedelta

    from sqlalchemy import text

    from shared.scheduler import Job

    async def stamp(session: AsyncSession, *, now: datetime) -> dict[str, int]:
        await session.execute(
            text(
                "INSERT INTO regions (code, name, level) VALUES ('610326000000', '眉县', 'county')"
            )
        )
        return {"stamped": 1}

    job = Job(name="stamp", func=stamp, every=timedelta(minutes=15), description="test job")
    monkeypatch.setattr(cli, "_jobs", lambda: {"stamp": _JobEntryPoint(job)})

    listed = await warnex("jobs", "list")
    assert "stamp" in listed.stdout
    result = await warnex("jobs", "run", "stamp")
    assert "ran" in result.stdout
    async with fresh_db.transaction() as session:
        assert await session.scalar(text("SELECT count(*) FROM regions")) == 1
        runs = (await session.execute(text("SELECT outcome FROM job_runs"))).scalars().all()
    assert runs == [{"stamped": 1}]

    unknown = await warnex("jobs", "run", "no-such-job", exit_code=2)
    assert "no-such-job" in unknown.stderr
