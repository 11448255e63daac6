"""deploy/compose.yaml: it names every service, selects the right `--service`
for each, shares one database and secret, and sets only real settings.
"""

from __future__ import annotations

import re

from tests.deploy.deploy_helpers import (
    APP_SERVICES,
    DEPLOY,
    ROOT,
    compose_names,
    env_file,
    settings_env_names,
)


def test_compose_names_the_database_the_migration_the_four_services_and_the_gateway(compose):
    assert set(compose["services"]) == {
        "db",
        "migrate",
        "warning-ingest",
        "identification",
        "assistance",
        "reporting",
        "gateway",
    }
    assert set(compose_names(compose)) == set(APP_SERVICES)
    image = compose["services"]["db"]["image"]
    assert re.fullmatch(r"postgres:1[67](\.\d+)?(-\w+)?", image), image


def test_each_service_command_selects_its_service_on_all_interfaces(compose):
    for app_service, name in compose_names(compose).items():
        command = compose["services"][name]["command"]
        assert command[command.index("--service") + 1] == app_service
        assert command[command.index("--host") + 1] == "0.0.0.0"
        assert command[command.index("--port") + 1] == "8000"


def test_services_share_one_database_url_and_secret_and_wait_for_the_migration(compose):
    services = compose["services"]
    names = ["migrate", *compose_names(compose).values()]
    urls = {services[n]["environment"]["DATABASE_URL"] for n in names}
    secrets = {services[n]["environment"]["WARNEX_SECRET_KEY"] for n in names}
    assert len(urls) == 1 and len(secrets) == 1
    (url,) = urls
    db_env = services["db"]["environment"]
    assert url.startswith(f"postgresql://{db_env['POSTGRES_USER']}:")
    assert url.endswith(f"@db:5432/{db_env['POSTGRES_DB']}")
    # A missing secret stops compose instead of starting with an empty one.
    (secret,) = secrets
    assert secret.startswith("${WARNEX_SECRET_KEY:?")
    for name in compose_names(compose).values():
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
    migrate = services["migrate"]
    assert migrate["command"] == ["warnex", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_compose_sets_only_settings_that_warnex_reads(compose):
    known = settings_env_names()
    for name in ["migrate", *compose_names(compose).values()]:
        env = compose["services"][name]["environment"]
        warnex_keys = {k for k in env if k.startswith("WARNEX_") or k == "DATABASE_URL"}
        assert warnex_keys - known == set(), name


def test_every_variable_compose_requires_is_in_the_example_env_file():
    text = (DEPLOY / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert {"POSTGRES_PASSWORD", "WARNEX_SECRET_KEY"} <= required
    example = env_file(DEPLOY / "compose.env.example")
    assert required - set(example) == set()


def test_files_compose_mounts_and_builds_from_exist(compose):
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not source.endswith("backups"):
                assert (DEPLOY / source).is_file(), source
        build = service.get("build")
        if build:
            context = (DEPLOY / build["context"]).resolve()
            assert context == ROOT
            assert (context / build["dockerfile"]).is_file()
