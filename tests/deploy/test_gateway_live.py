"""deploy/nginx.conf running on loopback in front of stub services that
answer with their own name (skipped when no `nginx` binary is installed).
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.deploy.deploy_helpers import (
    DEPLOY,
    MIB,
    PREFIXES,
    Stub,
    compose_names,
    free_port,
)
from tests.deploy.nginx_helpers import (
    loopback_copy,
    nginx_binary,
)


@pytest.fixture
def stubs(compose) -> Iterator[dict[str, Stub]]:
    """One stub per warnex service, keyed by its compose service name."""
    started = {name: Stub(name) for name in compose_names(compose).values()}
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in started.values()]
    for thread in threads:
        thread.start()
    try:
        yield started
    finally:
        for stub in started.values():
            stub.shutdown()
            stub.server_close()


@pytest.fixture
def gateway(tmp_path, stubs) -> Iterator[tuple[str, dict[str, Stub]]]:
    nginx = nginx_binary()
    if nginx is None:
        pytest.skip("no nginx binary on PATH: the live gateway half did not run")
    tmp_path.chmod(0o755)
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        loopback_copy(
            (DEPLOY / "nginx.conf").read_text(),
            tmp=tmp_path,
            port=port,
            hosts={name: stub.server_address[1] for name, stub in stubs.items()},
        )
    )
    base = [nginx, "-e", "stderr", "-p", str(tmp_path), "-c", str(conf)]
    check = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [*base, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "nginx did not answer"
            time.sleep(0.1)
        yield url, stubs
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful: workers finish and exit
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_live_gateway_sends_each_prefix_to_its_service_with_the_path_unchanged(gateway, compose):
    url, stubs = gateway
    by_app_service = compose_names(compose)
    with httpx.Client(base_url=url, timeout=10) as client:
        for app_service, prefix in PREFIXES.items():
            response = client.get(f"{prefix}/healthz", headers={"X-Request-ID": "req-1"})
            assert response.status_code == 200
            seen = response.json()
            assert seen["service"] == by_app_service[app_service]
            assert seen["path"] == f"{prefix}/healthz"
            assert (seen["forwarded_for"], seen["forwarded_proto"]) == ("127.0.0.1", "http")
            assert seen["request_id"] == "req-1"
        seen = client.get("/reporting/v1/overview?region=610326000000").json()
        assert (seen["service"], seen["path"]) == (
            "reporting",
            "/reporting/v1/overview?region=610326000000",
        )
        # A request without an id gets one from the gateway.
        assert re.fullmatch(r"[0-9a-f]{32}", client.get("/assistance/v1/gaps").json()["request_id"])
        unknown = client.get("/admin/v1/secrets")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"] == "application/problem+json"
    assert all(not path.startswith("/admin") for s in stubs.values() for path in s.hits)


def test_live_gateway_takes_bulk_bodies_on_bulk_paths_only(gateway):
    url, stubs = gateway
    body = b"x" * (3 * MIB)
    with httpx.Client(base_url=url, timeout=30) as client:
        batch = client.post("/ingest/v1/batches", content=body)
        assert batch.status_code == 200
        seen = batch.json()
        assert (seen["service"], seen["body_bytes"]) == ("warning-ingest", len(body))
        upload = client.post("/identification/v1/campaigns/c-1/screenings", content=body)
        assert (upload.json()["service"], upload.json()["body_bytes"]) == (
            "identification",
            len(body),
        )
        refused = client.post("/identification/v1/cases", content=body)
        assert refused.status_code == 413
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:warnex:problem:payload_too_large"
        assert refused.json()["errors"] == []
    assert "/identification/v1/cases" not in stubs["identification"].hits


def test_live_gateway_answers_a_stopped_service_with_a_503_problem(gateway, compose):
    url, stubs = gateway
    stub = stubs[compose_names(compose)["reporting"]]
    stub.shutdown()
    stub.server_close()
    with httpx.Client(base_url=url, timeout=10) as client:
        answer = client.get("/reporting/v1/overview")
        assert answer.status_code == 503, (answer.headers, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"] == "5"
        problem = answer.json()
        assert problem["type"] == "urn:warnex:problem:service_unavailable"
        assert problem["detail"] and problem["errors"] == []
        # The other services still answer.
        assert client.get("/ingest/v1/healthz").status_code == 200
