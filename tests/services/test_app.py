"""The four apps: mounted at their prefixes, healthy, ready, and speaking problem+json."""

import pytest

PREFIXES = ["/ingest/v1", "/identification/v1", "/assistance/v1", "/reporting/v1"]


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_each_service_answers_healthz_and_readyz_without_a_token(client, prefix):
    assert (await client.get(f"{prefix}/healthz")).json() == {"status": "ok"}
    ready = await client.get(f"{prefix}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_each_service_publishes_openapi_and_docs_under_its_prefix(client, prefix):
    spec = await client.get(f"{prefix}/openapi.json")
    assert spec.status_code == 200
    assert "/healthz" in spec.json()["paths"]
    docs = await client.get(f"{prefix}/docs")
    assert docs.status_code == 200
    assert f"{prefix}/openapi.json" in docs.text


async def test_unknown_path_is_problem_json_404(client):
    for path in ["/nowhere", "/ingest/v1/nowhere"]:
        response = await client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404


async def test_wrong_method_is_problem_json_405(client):
    response = await client.delete("/ingest/v1/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


async def test_metrics_are_exposed_in_prometheus_format(client):
    await client.get("/reporting/v1/healthz")
    response = await client.get("/reporting/v1/metrics")
    assert response.status_code == 200
    assert "warnex_http_request_duration_seconds" in response.text
