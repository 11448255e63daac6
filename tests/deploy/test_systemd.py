"""deploy/systemd: the service template, the migration unit and each instance's environment."""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.deploy_helpers import (
    APP_SERVICES,
    DEPLOY,
    env_file,
    settings_env_names,
)


def _unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """An INI-like unit file: section -> key -> every value (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            current = sections.setdefault(header.group(1), {})
            continue
        assert current is not None, f"{path.name}: a line before any section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not key=value: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_service_template_serves_its_instance_after_the_migration():
    unit = _unit(DEPLOY / "systemd" / "warnex@.service")
    assert set(unit) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    (exec_start,) = service["ExecStart"]
    words = exec_start.split()
    assert words[0].startswith("/") and words[0].endswith("/warnex")
    assert words[1:4] == ["serve", "--service", "%i"]
    assert words[words.index("--port") + 1] == "${WARNEX_PORT}"
    assert service["EnvironmentFile"][0] == "/etc/warnex/warnex.env"
    assert "/etc/warnex/%i.env" in service["EnvironmentFile"]
    assert service["User"] != ["root"]
    for key in ("After", "Requires"):
        assert "warnex-migrate.service" in " ".join(unit["Unit"][key]).split()


def test_migration_unit_is_a_oneshot_before_every_service():
    unit = _unit(DEPLOY / "systemd" / "warnex-migrate.service")
    service = unit["Service"]
    assert service["Type"] == ["oneshot"]
    (exec_start,) = service["ExecStart"]
    assert exec_start.split()[0].endswith("/warnex") and exec_start.split()[1:] == ["migrate"]
    assert service["EnvironmentFile"] == ["/etc/warnex/warnex.env"]
    before = " ".join(unit["Unit"]["Before"]).split()
    assert sorted(before) == sorted(f"warnex@{name}.service" for name in APP_SERVICES)


def test_each_instance_has_its_own_port_and_the_environment_file_documents_real_settings():
    ports = {
        name: env_file(DEPLOY / "systemd" / f"{name}.env")["WARNEX_PORT"] for name in APP_SERVICES
    }
    assert len(set(ports.values())) == len(APP_SERVICES)
    example = env_file(DEPLOY / "systemd" / "warnex.env.example")
    assert {"DATABASE_URL", "WARNEX_SECRET_KEY"} <= set(example)
    assert set(example) - settings_env_names() == set()
