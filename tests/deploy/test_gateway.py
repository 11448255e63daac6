"""deploy/nginx.conf, read without running it: each API.md prefix routed to the
compose service that serves it, the body limits and timeouts, the headers
forwarded, and the gateway's own problem answers.
"""

from __future__ import annotations

import json
import re

import pytest

from shared.settings import Settings
from tests.deploy.deploy_helpers import (
    DEPLOY,
    PREFIXES,
    compose_names,
    spec,
)
from tests.deploy.nginx_helpers import (
    Directive,
    parse_nginx,
    route,
    seconds,
    server_of,
    setting,
    size_of,
    upstreams_of,
)


@pytest.fixture(scope="module")
def nginx_conf() -> Directive:
    return parse_nginx((DEPLOY / "nginx.conf").read_text())


def test_gateway_routes_each_api_prefix_to_the_compose_service_that_serves_it(nginx_conf, compose):
    server = server_of(nginx_conf)
    upstreams = upstreams_of(nginx_conf)
    by_app_service = compose_names(compose)
    for app_service, prefix in PREFIXES.items():
        for path in (f"{prefix}/healthz", f"{prefix}/anything/deeper"):
            location = route(server, path)
            (target,) = location.value("proxy_pass") or []
            # No URI part: the path goes to the service unchanged, prefix included.
            assert re.fullmatch(r"http://\w+", target), target
            hosts = upstreams[target.removeprefix("http://")]
            assert hosts == [f"{by_app_service[app_service]}:8000"], (path, hosts)
    # Nothing else is proxied.
    assert route(server, "/admin/v1/x").value("proxy_pass") is None
    assert route(server, "/ingest/v2/batches").value("proxy_pass") is None


def test_only_the_services_bulk_paths_take_64_mib_and_long_timeouts(nginx_conf):
    server = server_of(nginx_conf)
    bulk_limit = Settings.model_fields["bulk_body_limit_bytes"].default
    ordinary_limit = Settings.model_fields["body_limit_bytes"].default
    for app_service, prefix in PREFIXES.items():
        bulk = [prefix + p for p in spec(app_service).bulk_paths]
        for path in bulk:
            location = route(server, path + "x")
            assert size_of(setting(server, location, "client_max_body_size") or "1m") == bulk_limit
            for timeout in ("proxy_read_timeout", "proxy_send_timeout", "client_body_timeout"):
                assert seconds(setting(server, location, timeout) or "60s") >= 120, timeout
            assert location.value("proxy_request_buffering") == ["off"]
        # Ordinary paths: larger than the service's own limit (so that its RFC 9457
        # 413 answers), far below the bulk one.
        location = route(server, f"{prefix}/healthz")
        size = size_of(setting(server, location, "client_max_body_size") or "1m")
        assert ordinary_limit < size < bulk_limit


def test_the_gateways_own_413_has_the_services_problem_shape(nginx_conf):
    server = server_of(nginx_conf)
    assert ["413", "@payload_too_large"] in [d.args for d in server.find("error_page")]
    (location,) = [loc for loc in server.find("location") if loc.args == ["@payload_too_large"]]
    status, body = location.value("return") or []
    problem = json.loads(body)
    assert (status, problem["status"]) == ("413", 413)
    assert problem["type"] == "urn:warnex:problem:payload_too_large"
    assert isinstance(problem["detail"], str) and problem["detail"]
    assert problem["errors"] == []


def test_a_service_down_or_slow_behind_the_gateway_is_a_503_problem_to_retry(nginx_conf):
    server = server_of(nginx_conf)
    pages = [d.args for d in server.find("error_page")]
    assert ["502", "503", "504", "=503", "@service_unavailable"] in pages
    (location,) = [loc for loc in server.find("location") if loc.args == ["@service_unavailable"]]
    status, body = location.value("return") or []
    problem = json.loads(body)
    assert (status, problem["status"]) == ("503", 503)
    assert problem["detail"] and problem["errors"] == []
    assert location.value("add_header") == ["Retry-After", "5", "always"]


def test_gateway_forwards_the_client_and_request_headers_to_every_location(nginx_conf):
    server = server_of(nginx_conf)
    headers = {d.args[0].lower() for d in server.find("proxy_set_header")}
    assert {"host", "x-forwarded-for", "x-forwarded-proto", "x-request-id"} <= headers
    # A location's own proxy_set_header would drop every inherited one.
    for location in server.find("location"):
        assert not location.find("proxy_set_header"), location.args
