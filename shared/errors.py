"""Domain errors and the one handler that renders every error as RFC 9457.

Domain errors carry their status and problem type; services raise them and never
build HTTP responses. No error body holds a stack trace, SQL or personal data:
validation messages never echo the input, and unexpected errors say only that
something went wrong, with the request id to quote.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import asyncpg
import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from shared.context import current_request_id

log = structlog.get_logger("warnex.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class DomainError(Exception):
    """An error the caller can act on; rendered as problem+json with `status`."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        slug: str | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}
        if slug is not None:
            self.slug = slug  # type: ignore[misc]

    @property
    def type(self) -> str:
        return f"urn:warnex:problem:{self.slug}"


class BadRequest(DomainError):
    status, slug, title = 400, "bad_request", "Bad request"


class Unauthenticated(DomainError):
    status, slug, title = 401, "unauthenticated", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(DomainError):
    status, slug, title = 404, "not_found", "Not found"


class MalformedJson(BadRequest):
    slug, title = "malformed_json", "Malformed JSON"


class UnsupportedContentType(BadRequest):
    slug, title = "unsupported_content_type", "Unsupported content type"


class InvalidEncoding(BadRequest):
    slug, title = "invalid_encoding", "The body is not in the declared character set"


class NestedTooDeeply(BadRequest):
    slug, title = "nested_too_deeply", "The JSON is nested too deeply"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(DomainError):
    status, slug, title = 413, "payload_too_large", "Request body too large"


class Unprocessable(DomainError):
    status, slug, title = 422, "validation_failed", "The request breaks a rule"


class TooManyRequests(DomainError):
    status, slug, title = 429, "too_many_requests", "Too many requests"


class ServiceUnavailable(DomainError):
    status, slug, title = 503, "service_unavailable", "Service unavailable"


def invalid(field: str, code: str, message: str, detail: str | None = None) -> Unprocessable:
    """A 422 naming one field."""
    return Unprocessable(detail or message, errors=[FieldError(field, code, message)])


def check_code(field: str, value: str | None, allowed: Iterable[str]) -> None:
    """422 `invalid_code` unless `value` is None or one of `allowed` (a filter or a field)."""
    codes = list(allowed)
    if value is not None and value not in codes:
        raise invalid(field, "invalid_code", f"{field} must be one of {', '.join(codes)}")


# API.md: these may leave `detail` and `errors` out; every other problem carries
# both, `errors` being [] where no field is at fault, so that clients parse one shape.
BARE_STATUSES = frozenset({401, 403, 404})


def problem_response(
    status: int,
    *,
    title: str,
    type_: str = "about:blank",
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """The RFC 9457 answer; outside `BARE_STATUSES` it always has `detail`
    (the title when none is given) and `errors` (a list, maybe empty)."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if status in BARE_STATUSES:
        if detail:
            body["detail"] = detail
        if errors:
            body["errors"] = [e.as_dict() for e in errors]
    else:
        body["detail"] = detail or title
        body["errors"] = [e.as_dict() for e in errors or ()]
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


# Pydantic error types mapped to the contract's error codes.
_CODES = {
    "missing": "missing_field",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "literal_error": "invalid_code",
    "enum": "invalid_code",
    "date_type": "invalid_date",
    "date_parsing": "invalid_date",
    "date_from_datetime_parsing": "invalid_date",
    "date_from_datetime_inexact": "invalid_date",
    "date_out_of_range": "date_out_of_range",
}


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _is_json_request(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _validation_problem(request: Request, exc: RequestValidationError) -> Response:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return render(MalformedJson("The body is not valid JSON."))
    body_error = any(e.get("loc", ("",))[0] == "body" for e in errors)
    if body_error and request.method in {"POST", "PUT", "PATCH"} and not _is_json_request(request):
        return render(UnsupportedContentType("Send the body as application/json."))
    fields = [
        FieldError(
            _field_of(tuple(e.get("loc", ()))),
            _CODES.get(str(e.get("type")), "invalid_value"),
            # pydantic's msg never includes the input; `input` and `ctx` are dropped.
            str(e.get("msg", "invalid value")),
        )
        for e in errors
    ]
    return problem_response(
        422, title="The request breaks a rule", detail="Some fields are invalid.", errors=fields
    )


def _frames(exc: BaseException) -> list[str]:
    # File, line and function only: an exception's message may hold SQL parameters.
    return [f"{f.filename}:{f.lineno}:{f.name}" for f in traceback.extract_tb(exc.__traceback__)]


_DATABASE_DOWN = frozenset(
    {
        "AdminShutdownError",
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "TooManyConnectionsError",
    }
)


def _is_database_down(exc: BaseException) -> bool:
    if isinstance(exc, (OSError, ConnectionError, InterfaceError)):
        return True
    if isinstance(exc, OperationalError | DBAPIError) and exc.connection_invalidated:
        return True
    # SQLAlchemy's asyncpg adapter wraps the driver's error: follow the chain
    # (`orig`, then each `__cause__`) to the error asyncpg raised.
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if type(seen).__name__ in _DATABASE_DOWN or isinstance(seen, OSError | ConnectionError):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def _is_database_busy(exc: BaseException) -> bool:
    """No pooled connection came free in time, or a statement ran past the
    caller's statement timeout (SQLSTATE 57014)."""
    if isinstance(exc, PoolTimeout):
        return True
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) == "57014":
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def render(exc: DomainError) -> Response:
    """The problem+json answer for a domain error."""
    return problem_response(
        exc.status,
        title=exc.title,
        type_=exc.type,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


def _body_error(cause: BaseException | None) -> DomainError:
    """What went wrong while FastAPI read a body, without echoing any of it."""
    if isinstance(cause, DomainError):
        return cause
    if isinstance(cause, UnicodeDecodeError):
        return InvalidEncoding("A JSON body must be UTF-8.")
    if isinstance(cause, RecursionError):
        return NestedTooDeeply("The body nests arrays or objects too deeply to be read.")
    return MalformedJson("The body cannot be read as JSON.")


def install_error_handlers(app: FastAPI) -> None:
    """Render every 4xx/5xx of `app` as problem+json."""

    async def domain(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return render(exc)

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return _validation_problem(request, exc)

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and exc.__cause__ is not None:
            # FastAPI turns any error raised while it reads the body into a 400:
            # the body limit (shared.limits) raises its 413 there, the decoder
            # its UnicodeDecodeError or RecursionError.
            return render(_body_error(exc.__cause__))
        titles = {
            400: "Bad request",
            401: "Authentication required",
            404: "Not found",
            405: "Method not allowed",
        }
        details = {405: f"{request.method} is not allowed on this path."}
        return problem_response(
            exc.status_code,
            title=titles.get(exc.status_code, "Request refused"),
            detail=details.get(exc.status_code),
            headers=dict(exc.headers or {}),
        )

    async def unexpected(request: Request, exc: Exception) -> Response:
        # Starlette calls this from outside the request-log middleware, which has
        # already reset the request id and will not add its header; the id it
        # chose is still in the scope's state.
        request_id = current_request_id() or getattr(request.state, "request_id", None)
        ids = {"request_id": request_id} if request_id else {}
        headers = {"x-request-id": request_id} if request_id else {}
        if _is_database_down(exc):
            log.warning("database_unavailable", error_type=type(exc).__name__)
            return problem_response(
                503,
                title="Service unavailable",
                type_="urn:warnex:problem:database_unavailable",
                detail="The database cannot be reached; try again shortly.",
                headers={"Retry-After": "5", **headers},
                extra=ids,
            )
        if _is_database_busy(exc):
            log.warning("database_busy", error_type=type(exc).__name__)
            return problem_response(
                503,
                title="Service busy",
                type_="urn:warnex:problem:database_busy",
                detail="The request took longer than its limit; try again shortly.",
                errors=[],
                headers={"Retry-After": "5", **headers},
                extra=ids,
            )
        log.error("unhandled_error", error_type=type(exc).__name__, frames=_frames(exc))
        return problem_response(
            500,
            title="Internal error",
            detail="Something went wrong on our side; quote the request id when you report it.",
            headers=headers,
            extra=ids,
        )

    app.add_exception_handler(DomainError, domain)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http)
    # The database's errors get a handler of their own: one registered for
    # `Exception` alone runs in Starlette's outermost middleware, which re-raises
    # after answering, so the server drops the client's keep-alive connection.
    # asyncpg's own errors reach it from statements sent to the driver directly
    # (shared/db.py DriverStatement, bulk loads).
    for database_error in (
        DBAPIError,
        InterfaceError,
        OSError,
        PoolTimeout,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
    ):
        app.add_exception_handler(database_error, unexpected)
    app.add_exception_handler(Exception, unexpected)
