"""deploy/backup.sh, restore.sh and deploy/README.md's commands."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.deploy.deploy_helpers import (
    DEPLOY,
)


@pytest.mark.parametrize("script", ["backup.sh", "restore.sh"])
def test_scripts_are_executable_bash_that_parses(script):
    path = DEPLOY / script
    assert os.access(path, os.X_OK)
    assert path.read_text().startswith("#!/usr/bin/env bash\n")
    assert subprocess.run(["bash", "-n", str(path)], timeout=10).returncode == 0


def test_restore_refuses_to_run_without_the_secret(tmp_path):
    archive = tmp_path / "x.dump"
    archive.write_bytes(b"")
    env = {k: v for k, v in os.environ.items() if k != "WARNEX_SECRET_KEY"}
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none"
    result = subprocess.run(
        [str(DEPLOY / "restore.sh"), str(archive)], env=env, capture_output=True, timeout=10
    )
    assert result.returncode != 0
    assert b"WARNEX_SECRET_KEY" in result.stderr


def test_readme_commands_exist_in_the_cli():
    from typer.main import get_command

    from shared.cli import app

    cli = get_command(app)
    text = (DEPLOY / "README.md").read_text()
    # The commands in code: fenced blocks and `spans`, not the prose.
    code = "\n".join(re.findall(r"```\w*\n(.*?)```", text, re.S) + re.findall(r"`([^`\n]+)`", text))
    pattern = r"(?<![\w/@.-])warnex ((?:admin |import |jobs |db )?[a-z][a-z-]+)(?!\w)"
    used = set(re.findall(pattern, code))
    assert {"migrate", "serve", "admin create-client", "admin create-user"} <= used
    for command in used:
        group = cli
        for word in command.split():
            assert word in group.commands, f"README names `warnex {command}`"  # type: ignore[attr-defined]
            group = group.commands[word]  # type: ignore[attr-defined]
    made_by_the_operator = {".env", "backups"}
    for mentioned in set(re.findall(r"(?<![\w/])deploy/([\w@./-]+\w)", text)):
        if mentioned in made_by_the_operator:
            continue
        assert (DEPLOY / mentioned).exists(), mentioned
