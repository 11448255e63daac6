"""Request-body limits, enforced on the streamed bytes (uvicorn has none).

A declared Content-Length over the limit is refused before a byte is read; a
chunked body is counted as it arrives and refused the moment it passes the
limit, so a 65 MB upload never sits in memory.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PayloadTooLarge, problem_response


class BodyTooLarge(PayloadTooLarge):
    pass


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"The body exceeds the limit of {limit} bytes for this endpoint.")


class BodyLimitMiddleware:
    """413 for bodies over `bulk_limit` on bulk paths and `limit` elsewhere."""

    def __init__(
        self, app: ASGIApp, *, limit: int, bulk_limit: int, bulk_paths: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.limit = limit
        self.bulk_limit = bulk_limit
        self.bulk_paths = bulk_paths

    def _limit_for(self, scope: Scope) -> int:
        root, path = str(scope.get("root_path", "")), str(scope.get("path", ""))
        # Starlette keeps the full path in a mounted app's scope; older ASGI servers may not.
        full = path if path.startswith(root) else root + path
        if any(full.startswith(p) for p in self.bulk_paths):
            return self.bulk_limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            error = _too_large(limit)
            await problem_response(413, title=error.title, type_=error.type, detail=error.detail)(
                scope, receive, send
            )
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the app, rendered by the domain-error handler.
                    raise _too_large(limit)
            return message

        await self.app(scope, counting_receive, send)
