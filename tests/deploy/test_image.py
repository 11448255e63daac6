"""deploy/Dockerfile: what the image installs, runs as, and checks its health with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from tests.deploy.deploy_helpers import (
    DEPLOY,
    ROOT,
    Stub,
    free_port,
)


def _dockerfile() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_image_installs_the_package_and_runs_unprivileged():
    instructions = _dockerfile()
    keywords = [k for k, _ in instructions]
    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("python:3.1")
    assert any(k == "RUN" and "pip install ." in v for k, v in instructions)
    # Every COPY source exists in the build context (the repository root).
    for keyword, value in instructions:
        if keyword == "COPY" and "--from" not in value:
            for source in value.split()[:-1]:
                assert (ROOT / source).exists(), source
    users = [v for k, v in instructions if k == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("CMD")
    (cmd,) = [json.loads(v) for k, v in instructions if k == "CMD"]
    assert cmd[:2] == ["warnex", "serve"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"


def _healthcheck() -> list[str]:
    (value,) = [v for k, v in _dockerfile() if k == "HEALTHCHECK"]
    return list(json.loads(value[value.index("CMD") + 3 :].strip()))


def test_image_healthcheck_passes_on_the_containers_own_service_and_fails_without_one():
    command = _healthcheck()
    assert command[0] == "python"
    stub = Stub("reporting")
    thread = threading.Thread(target=stub.serve_forever, daemon=True)
    thread.start()
    try:
        env = {**os.environ, "PORT": str(stub.server_address[1])}
        ok = subprocess.run([sys.executable, *command[1:]], env=env, timeout=30)
        assert ok.returncode == 0
        assert stub.hits[-1].endswith("/v1/healthz")
    finally:
        stub.shutdown()
        stub.server_close()
    env = {**os.environ, "PORT": str(free_port())}
    assert subprocess.run([sys.executable, *command[1:]], env=env, timeout=30).returncode == 1
