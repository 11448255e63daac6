"""What the tests of deploy/ share: where the files are, the services they
name, the settings warnex reads, and a stub service that answers with its name.
"""

from __future__ import annotations

import json
import re
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from services.app import SERVICES
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
APP_SERVICES = list(SERVICES)  # warning_ingest, identification, assistance, reporting
PREFIXES = {name: prefix for name, (prefix, _) in SERVICES.items()}
REPLICAS = 2  # the replica count deploy/postgresql.conf sizes max_connections for
MIB = 1024 * 1024


def spec(name: str) -> Any:
    module = __import__(f"services.{name}.app", fromlist=["spec"])
    return module.spec()


def settings_env_names() -> set[str]:
    names = {"DATABASE_URL"}
    for field_name in Settings.model_fields:
        names.add("WARNEX_" + field_name.upper())
    return names


def _serves(service: dict[str, Any]) -> str | None:
    """The `--service` a compose service's `warnex serve` command selects."""
    command = service.get("command") or []
    if command[:2] != ["warnex", "serve"]:
        return None
    return str(command[command.index("--service") + 1])


def compose_names(compose: dict[str, Any]) -> dict[str, str]:
    """warnex service name -> compose service name."""
    found: dict[str, str] = {}
    for name, service in compose["services"].items():
        served = _serves(service)
        if served is not None:
            assert served not in found, f"two compose services serve {served}"
            found[served] = name
    return found


def env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), line
            pairs[key] = value
    return pairs


class Stub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.name = name
        self.hits: list[str] = []


class _StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Stub

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
