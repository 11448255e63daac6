"""Request bodies: their size limits, their time limits, and reading them whole
before the app runs (uvicorn enforces none of this).

A handler may hold a pooled database connection from authentication to its
response. A body that trickles in one byte a second would hold that connection
for as long as the sender likes, and twenty of them empty the pool for every
service in the process. So the body is read here first, with no connection
held: into memory when small, into a temporary file when large, and the app is
called only once it is all there.

- A declared Content-Length over the limit is refused before a byte is read; a
  chunked body is counted as it arrives and refused the moment it passes the
  limit, so a 65 MB upload never sits in memory.
- A body that makes no progress for `idle_seconds`, or is not complete within
  `deadline_seconds`, is answered 408 and the connection closed.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import IO, ClassVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import DomainError, PayloadTooLarge, problem_response

# Bodies up to this size stay in memory; larger ones go to a temporary file.
SPOOL_BYTES = 1024 * 1024
_REPLAY_CHUNK = 256 * 1024


class BodyTooLarge(PayloadTooLarge):
    pass


class BodyTimeout(DomainError):
    status: ClassVar[int] = 408
    slug: ClassVar[str] = "request_timeout"
    title: ClassVar[str] = "Request timeout"


class _Disconnected(Exception):
    """The client went away before its body was complete."""


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"The body exceeds the limit of {limit} bytes for this endpoint.")


class _Body:
    """A request body read whole: bytes in memory, or a spooled file."""

    def __init__(self) -> None:
        self.size = 0
        self._chunks: list[bytes] = []
        self._file: IO[bytes] | None = None

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._file is None and self.size <= SPOOL_BYTES:
            self._chunks.append(chunk)
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
            self._file.writelines(self._chunks)
            self._chunks = []
        self._file.write(chunk)

    def replay(self, receive: Receive) -> Receive:
        """A `receive` that hands the app the body read, then the client's own
        messages (its disconnect)."""
        if self._file is None:
            pending = [{"type": "http.request", "body": b"".join(self._chunks), "more_body": False}]

            async def from_memory() -> Message:
                return pending.pop() if pending else await receive()

            return from_memory
        file = self._file
        file.seek(0)
        remaining = self.size

        async def from_file() -> Message:
            nonlocal remaining
            if remaining <= 0:
                return await receive()
            chunk = file.read(min(_REPLAY_CHUNK, remaining))
            remaining -= len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": remaining > 0}

        return from_file

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class BodyMiddleware:
    """Reads each body whole, within its size and time limits, before the app:
    413 past `bulk_limit` on bulk paths and `limit` elsewhere; 408 when the body
    stalls for `idle_seconds` or takes longer than `deadline_seconds`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        bulk_limit: int,
        bulk_paths: tuple[str, ...] = (),
        idle_seconds: float = 10.0,
        deadline_seconds: float = 600.0,
    ) -> None:
        self.app = app
        self.limit = limit
        self.bulk_limit = bulk_limit
        self.bulk_paths = bulk_paths
        self.idle_seconds = idle_seconds
        self.deadline_seconds = deadline_seconds

    def _limit_for(self, scope: Scope) -> int:
        root, path = str(scope.get("root_path", "")), str(scope.get("path", ""))
        # Starlette keeps the full path in a mounted app's scope; older ASGI servers may not.
        full = path if path.startswith(root) else root + path
        if any(full.startswith(p) for p in self.bulk_paths):
            return self.bulk_limit
        return self.limit

    async def _read(self, receive: Receive, limit: int, body: _Body) -> None:
        async with asyncio.timeout(self.deadline_seconds):
            while True:
                try:
                    message = await asyncio.wait_for(receive(), self.idle_seconds)
                except TimeoutError:
                    raise BodyTimeout(
                        f"The body made no progress for {self.idle_seconds:g} seconds."
                    ) from None
                if message["type"] == "http.disconnect":
                    raise _Disconnected
                body.add(message.get("body", b""))
                if body.size > limit:
                    raise _too_large(limit)
                if not message.get("more_body", False):
                    return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        body = _Body()
        try:
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            try:
                await self._read(receive, limit, body)
            except TimeoutError:
                raise BodyTimeout(
                    f"The body was not complete within {self.deadline_seconds:g} seconds."
                ) from None
        except (BodyTooLarge, BodyTimeout) as error:
            body.close()
            await problem_response(
                error.status,
                title=error.title,
                type_=error.type,
                detail=error.detail,
                errors=[],
                headers={"Connection": "close"},
            )(scope, receive, send)
            return
        except _Disconnected:
            body.close()
            return
        try:
            await self.app(scope, body.replay(receive), send)
        finally:
            body.close()
