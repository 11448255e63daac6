"""deploy/postgresql.conf: durable commits, enough connections for every
process, and only settings a real server knows with values it accepts.
"""

from __future__ import annotations

import re

import asyncpg

from shared.embedded import with_database
from shared.settings import Settings
from tests.deploy.deploy_helpers import (
    APP_SERVICES,
    DEPLOY,
    REPLICAS,
    env_file,
    spec,
)


def _pg_conf() -> dict[str, str]:
    settings = {}
    for raw in (DEPLOY / "postgresql.conf").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, sep, value = line.partition("=")
            assert sep, raw
            settings[name.strip()] = value.strip().strip("'")
    return settings


def test_postgresql_settings_keep_every_commit_durable():
    conf = _pg_conf()
    for name in ("fsync", "synchronous_commit", "full_page_writes"):
        assert conf[name] == "on", name
    assert conf["wal_level"] == "replica"
    assert int(conf["max_wal_senders"]) >= 1 and conf["hot_standby"] == "on"


def test_max_connections_covers_the_pools_and_consumers_of_every_process(compose):
    conf = _pg_conf()
    env = compose["services"]["reporting"]["environment"]
    pool = int(env.get("WARNEX_DB_POOL_SIZE", Settings.model_fields["db_pool_size"].default))
    overflow = int(
        env.get("WARNEX_DB_MAX_OVERFLOW", Settings.model_fields["db_max_overflow"].default)
    )
    # Each consumer LISTENs on a connection of its own, outside the pool.
    per_set = sum(pool + overflow + len(spec(name).consumers) for name in APP_SERVICES)
    needed = REPLICAS * per_set + 10 + int(conf["superuser_reserved_connections"])
    assert int(conf["max_connections"]) >= needed
    example = env_file(DEPLOY / "systemd" / "warnex.env.example")
    assert (int(example["WARNEX_DB_POOL_SIZE"]), int(example["WARNEX_DB_MAX_OVERFLOW"])) == (
        pool,
        overflow,
    )


async def test_every_postgresql_setting_is_known_to_a_real_server_with_a_valid_value(
    server_uri,
):
    conn = await asyncpg.connect(with_database(server_uri, "postgres"))
    try:
        rows = await conn.fetch("SELECT name, vartype, enumvals FROM pg_settings")
    finally:
        await conn.close()
    # Setting names are case-insensitive (pg_settings says `TimeZone`).
    known = {row["name"].lower(): row for row in rows}
    for name, value in _pg_conf().items():
        assert name.lower() in known, f"{name} is not a PostgreSQL setting"
        row = known[name.lower()]
        if row["vartype"] == "bool":
            assert value in {"on", "off", "true", "false"}, name
        elif row["vartype"] == "enum":
            assert value in row["enumvals"], (name, value)
        elif row["vartype"] in {"integer", "real"}:
            assert re.fullmatch(r"-?[0-9.]+\s*(kB|MB|GB|TB|ms|s|min|h|d)?", value), (name, value)
