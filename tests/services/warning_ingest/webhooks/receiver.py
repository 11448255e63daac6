"""A real HTTP receiver on 127.0.0.1 for the webhook tests: it records every
request and can answer 500 to the first N, or hang past the sender's time-out."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int


@dataclass
class Receiver:
    """What the server should answer, and what it was sent."""

    fail_first: int = 0
    fail_status: int = 500
    hang_seconds: float = 0.0
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def answer_for_next(self) -> int:
        with self._lock:
            return self.fail_status if len(self.requests) < self.fail_first else 204

    def add(self, received: Received) -> None:
        with self._lock:
            self.requests.append(received)

    def delivered(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if 200 <= r.answered < 300]

    def wait_for(self, count: int, seconds: float) -> bool:
        """Until `count` requests were answered 2xx, at most `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.delivered()) >= count:
                return True
            time.sleep(0.05)
        return False

    def recover(self) -> None:
        """Answer 2xx from the next request on (the end of a failing spell)."""
        with self._lock:
            self.fail_first = len(self.requests)

    def release(self) -> None:
        """Let hanging requests go (at the end of a test)."""
        self._released.set()


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if receiver.hang_seconds:
                receiver._released.wait(receiver.hang_seconds)
            status = receiver.answer_for_next()
            receiver.add(
                Received(self.path, dict(self.headers.items()), body, time.monotonic(), status)
            )
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:  # quiet
            pass

    return Handler


@contextmanager
def receiving(port: int = 0, **behaviour: object) -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 (`port`, else an ephemeral one) for the block."""
    receiver = Receiver(**behaviour)  # type: ignore[arg-type]
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()
        server.shutdown()
        server.server_close()
        thread.join(5)
