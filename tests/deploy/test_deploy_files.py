"""What an operator runs (deploy/): the compose file, the gateway, the image,
the systemd units and the PostgreSQL settings, each checked for what can be
checked without Docker: they parse, name every service, select the right
`--service`, share one database, and route each API.md prefix to its service.
When an `nginx` binary is installed the gateway config also runs, on loopback,
in front of stub services that answer with their own name.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import yaml

from services.app import SERVICES
from shared.embedded import with_database
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
APP_SERVICES = list(SERVICES)  # warning_ingest, identification, assistance, reporting
PREFIXES = {name: prefix for name, (prefix, _) in SERVICES.items()}
REPLICAS = 2  # the replica count deploy/postgresql.conf sizes max_connections for
MIB = 1024 * 1024


def _spec(name: str) -> Any:
    module = __import__(f"services.{name}.app", fromlist=["spec"])
    return module.spec()


def _settings_env_names() -> set[str]:
    names = {"DATABASE_URL"}
    for field_name in Settings.model_fields:
        names.add("WARNEX_" + field_name.upper())
    return names


# ------------------------------------------------------------------ compose


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def _serves(service: dict[str, Any]) -> str | None:
    """The `--service` a compose service's `warnex serve` command selects."""
    command = service.get("command") or []
    if command[:2] != ["warnex", "serve"]:
        return None
    return str(command[command.index("--service") + 1])


def _by_app_service(compose: dict[str, Any]) -> dict[str, str]:
    """warnex service name -> compose service name."""
    found: dict[str, str] = {}
    for name, service in compose["services"].items():
        served = _serves(service)
        if served is not None:
            assert served not in found, f"two compose services serve {served}"
            found[served] = name
    return found


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
    assert set(_by_app_service(compose)) == set(APP_SERVICES)
    image = compose["services"]["db"]["image"]
    assert re.fullmatch(r"postgres:1[67](\.\d+)?(-\w+)?", image), image


def test_each_service_command_selects_its_service_on_all_interfaces(compose):
    for app_service, name in _by_app_service(compose).items():
        command = compose["services"][name]["command"]
        assert command[command.index("--service") + 1] == app_service
        assert command[command.index("--host") + 1] == "0.0.0.0"
        assert command[command.index("--port") + 1] == "8000"


def test_services_share_one_database_url_and_secret_and_wait_for_the_migration(compose):
    services = compose["services"]
    names = ["migrate", *_by_app_service(compose).values()]
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
    for name in _by_app_service(compose).values():
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
    migrate = services["migrate"]
    assert migrate["command"] == ["warnex", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_compose_sets_only_settings_that_warnex_reads(compose):
    known = _settings_env_names()
    for name in ["migrate", *_by_app_service(compose).values()]:
        env = compose["services"][name]["environment"]
        warnex_keys = {k for k in env if k.startswith("WARNEX_") or k == "DATABASE_URL"}
        assert warnex_keys - known == set(), name


def test_every_variable_compose_requires_is_in_the_example_env_file():
    text = (DEPLOY / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert {"POSTGRES_PASSWORD", "WARNEX_SECRET_KEY"} <= required
    example = _env_file(DEPLOY / "compose.env.example")
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


# ------------------------------------------------------------------- nginx


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    def find(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]

    def value(self, name: str) -> list[str] | None:
        found = self.find(name)
        return found[-1].args if found else None


def _tokens(text: str) -> Iterator[str]:
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif c in "{};":
            yield c
            i += 1
        elif c in "'\"":
            end = i + 1
            while text[end] != c:
                end += 2 if text[end] == "\\" else 1
            yield text[i + 1 : end]
            i = end + 1
        else:
            end = i
            while end < len(text) and not text[end].isspace() and text[end] not in "{};":
                end += 1
            yield text[i:end]
            i = end


def parse_nginx(text: str) -> Directive:
    """The config as a tree of directives (enough of nginx's grammar for this file)."""
    root = Directive("main", [], [])
    stack = [root]
    words: list[str] = []
    for token in _tokens(text):
        if token == ";":
            assert stack[-1].block is not None
            stack[-1].block.append(Directive(words[0], words[1:]))
            words = []
        elif token == "{":
            block = Directive(words[0], words[1:], [])
            assert stack[-1].block is not None
            stack[-1].block.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(token)
    assert len(stack) == 1 and not words, "unbalanced braces"
    return root


@pytest.fixture(scope="module")
def nginx_conf() -> Directive:
    return parse_nginx((DEPLOY / "nginx.conf").read_text())


def _server(conf: Directive) -> Directive:
    (http,) = conf.find("http")
    (server,) = http.find("server")
    return server


def _upstreams(conf: Directive) -> dict[str, list[str]]:
    (http,) = conf.find("http")
    return {u.args[0]: [s.args[0] for s in u.find("server")] for u in http.find("upstream")}


def route(server: Directive, path: str) -> Directive:
    """The location nginx picks for `path`: an exact match, else the longest prefix."""
    locations = server.find("location")
    assert not any(loc.args[0] in {"~", "~*"} for loc in locations), "regex locations"
    for loc in locations:
        if loc.args[0] == "=" and loc.args[1] == path:
            return loc
    prefixes = [loc for loc in locations if len(loc.args) == 1 and path.startswith(loc.args[0])]
    return max(prefixes, key=lambda loc: len(loc.args[0]))


def _size(value: str) -> int:
    units = {"k": 1024, "m": MIB, "g": 1024 * MIB}
    return int(value[:-1]) * units[value[-1].lower()] if value[-1].isalpha() else int(value)


def _seconds(value: str) -> int:
    return int(value[:-1]) * {"s": 1, "m": 60}[value[-1]] if value[-1].isalpha() else int(value)


def _setting(server: Directive, location: Directive, name: str) -> str | None:
    found = location.value(name) or server.value(name)
    return found[0] if found else None


def test_gateway_routes_each_api_prefix_to_the_compose_service_that_serves_it(nginx_conf, compose):
    server = _server(nginx_conf)
    upstreams = _upstreams(nginx_conf)
    by_app_service = _by_app_service(compose)
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
    server = _server(nginx_conf)
    bulk_limit = Settings.model_fields["bulk_body_limit_bytes"].default
    ordinary_limit = Settings.model_fields["body_limit_bytes"].default
    for app_service, prefix in PREFIXES.items():
        bulk = [prefix + p for p in _spec(app_service).bulk_paths]
        for path in bulk:
            location = route(server, path + "x")
            assert _size(_setting(server, location, "client_max_body_size") or "1m") == bulk_limit
            for timeout in ("proxy_read_timeout", "proxy_send_timeout", "client_body_timeout"):
                assert _seconds(_setting(server, location, timeout) or "60s") >= 120, timeout
            assert location.value("proxy_request_buffering") == ["off"]
        # Ordinary paths: larger than the service's own limit (so that its RFC 9457
        # 413 answers), far below the bulk one.
        location = route(server, f"{prefix}/healthz")
        size = _size(_setting(server, location, "client_max_body_size") or "1m")
        assert ordinary_limit < size < bulk_limit


def test_the_gateways_own_413_has_the_services_problem_shape(nginx_conf):
    server = _server(nginx_conf)
    assert server.value("error_page") == ["413", "@payload_too_large"]
    (location,) = [loc for loc in server.find("location") if loc.args == ["@payload_too_large"]]
    status, body = location.value("return") or []
    problem = json.loads(body)
    assert (status, problem["status"]) == ("413", 413)
    assert problem["type"] == "urn:warnex:problem:payload_too_large"
    assert isinstance(problem["detail"], str) and problem["detail"]
    assert problem["errors"] == []


def test_gateway_forwards_the_client_and_request_headers_to_every_location(nginx_conf):
    server = _server(nginx_conf)
    headers = {d.args[0].lower() for d in server.find("proxy_set_header")}
    assert {"host", "x-forwarded-for", "x-forwarded-proto", "x-request-id"} <= headers
    # A location's own proxy_set_header would drop every inherited one.
    for location in server.find("location"):
        assert not location.find("proxy_set_header"), location.args


# --------------------------------------------------- nginx on loopback, live


class _Stub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.name = name
        self.hits: list[str] = []


class _StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Stub

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = len(self.rfile.read(length)) if length else self._read_chunked()
        self.server.hits.append(self.path)
        body = json.dumps(
            {
                "service": self.server.name,
                "path": self.path,
                "method": self.command,
                "body_bytes": received,
                "host": self.headers.get("Host"),
                "forwarded_for": self.headers.get("X-Forwarded-For"),
                "forwarded_proto": self.headers.get("X-Forwarded-Proto"),
                "request_id": self.headers.get("X-Request-ID"),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_chunked(self) -> int:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return 0
        total = 0
        while True:
            size = int(self.rfile.readline().strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return total
            total += len(self.rfile.read(size))
            self.rfile.readline()

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stubs(compose) -> Iterator[dict[str, _Stub]]:
    """One stub per warnex service, keyed by its compose service name."""
    started = {name: _Stub(name) for name in _by_app_service(compose).values()}
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in started.values()]
    for thread in threads:
        thread.start()
    try:
        yield started
    finally:
        for stub in started.values():
            stub.shutdown()
            stub.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def _loopback_copy(text: str, *, tmp: Path, port: int, hosts: dict[str, int]) -> str:
    """deploy/nginx.conf with its upstream hosts, port, pid and temp paths on loopback."""
    if os.geteuid() == 0:
        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(os.getegid()).gr_name
        text = re.sub(r"^user .*;$", f"user {user} {group};", text, flags=re.M)
    else:
        text = re.sub(r"^user .*;$", "", text, flags=re.M)
    text = re.sub(r"^pid .*;$", f"pid {tmp}/nginx.pid;", text, flags=re.M)
    text = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    for host, stub_port in hosts.items():
        text = text.replace(f"server {host}:8000;", f"server 127.0.0.1:{stub_port};")
    temp = f"client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;"
    text = text.replace("http {", "http {\n    " + temp, 1)
    assert "8000;" not in text, "an upstream host was not rewritten"
    return text


@pytest.fixture
def gateway(tmp_path, stubs) -> Iterator[tuple[str, dict[str, _Stub]]]:
    nginx = _nginx_binary()
    if nginx is None:
        pytest.skip("no nginx binary on PATH: the live gateway half did not run")
    tmp_path.chmod(0o755)
    port = _free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        _loopback_copy(
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
    by_app_service = _by_app_service(compose)
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


# ------------------------------------------------------------------ the image


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
    stub = _Stub("reporting")
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
    env = {**os.environ, "PORT": str(_free_port())}
    assert subprocess.run([sys.executable, *command[1:]], env=env, timeout=30).returncode == 1


# ---------------------------------------------------------------- systemd


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


def _env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), line
            pairs[key] = value
    return pairs


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
        name: _env_file(DEPLOY / "systemd" / f"{name}.env")["WARNEX_PORT"] for name in APP_SERVICES
    }
    assert len(set(ports.values())) == len(APP_SERVICES)
    example = _env_file(DEPLOY / "systemd" / "warnex.env.example")
    assert {"DATABASE_URL", "WARNEX_SECRET_KEY"} <= set(example)
    assert set(example) - _settings_env_names() == set()


# -------------------------------------------------------------- PostgreSQL


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
    per_set = sum(pool + overflow + len(_spec(name).consumers) for name in APP_SERVICES)
    needed = REPLICAS * per_set + 10 + int(conf["superuser_reserved_connections"])
    assert int(conf["max_connections"]) >= needed
    example = _env_file(DEPLOY / "systemd" / "warnex.env.example")
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


# ------------------------------------------------------------------ scripts


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
