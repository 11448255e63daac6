"""One log line per request, with the route template and never what the caller typed."""

from structlog.testing import capture_logs

ID_NUMBER = "11010519491231002X"


async def test_each_request_logs_one_line_with_template_status_duration_and_request_id(client):
    with capture_logs() as logs:
        response = await client.get("/ingest/v1/healthz", headers={"x-request-id": "req-42"})
    lines = [entry for entry in logs if entry["event"] == "request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["route"] == "/ingest/v1/healthz"
    assert line["status"] == 200
    assert line["method"] == "GET"
    assert line["request_id"] == "req-42"
    assert line["duration_ms"] >= 0
    assert response.headers["x-request-id"] == "req-42"


async def test_an_id_number_typed_into_a_url_or_query_never_reaches_the_log(client):
    with capture_logs() as logs:
        await client.get(f"/ingest/v1/nowhere/{ID_NUMBER}?id_number={ID_NUMBER}")
        await client.post("/ingest/v1/healthz", content=ID_NUMBER)
    assert logs, "requests were logged"
    assert ID_NUMBER not in repr(logs)


async def test_a_forged_request_id_is_replaced(client):
    response = await client.get("/ingest/v1/healthz", headers={"x-request-id": "bad id\nwith"})
    assert response.headers["x-request-id"] != "bad id\nwith"
    assert len(response.headers["x-request-id"]) == 32
