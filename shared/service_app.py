"""What every warnex service app has: health, readiness, metrics, problem+json
errors, request logs, body limits, and its background workers.

A service app's routes are relative (`/batches`); it is always mounted under
its API.md prefix (`/ingest/v1`), whether one service runs or all four.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from shared.db import close_database, get_database, open_database
from shared.errors import PROBLEM_MEDIA_TYPE, ServiceUnavailable, install_error_handlers
from shared.limits import BodyMiddleware
from shared.migrate import head_revision
from shared.observability import RequestLogMiddleware, configure_logging, metrics_endpoint
from shared.policy import get_policy
from shared.settings import get_settings

if TYPE_CHECKING:
    from shared.db import Database
    from shared.events import EventConsumer
    from shared.scheduler import Job

log = structlog.get_logger("warnex.app")

# Set by `warnex serve --workers N` for its server processes: the path (one
# file per service) whose flock elects the one process that runs a service's
# event consumers and scheduled jobs. The consumers' and jobs' own
# transaction-scoped locks keep them one at a time whatever runs them; the
# election spares the other processes the polling and the retried locks.
WORKERS_LOCK_ENV = "WARNEX_WORKERS_LOCK"
ELECTION_SECONDS = 2.0


class Worker(Protocol):
    """A background loop other than an event consumer (the webhook deliveries):
    `run_forever` returns only when cancelled, at shutdown."""

    name: str

    async def run_forever(self, db: Database) -> None: ...


@dataclass
class ServiceSpec:
    name: str
    prefix: str
    title: str
    routers: Sequence[APIRouter] = ()
    consumers: Sequence[EventConsumer] = ()
    jobs: Sequence[Job] = ()
    workers: Sequence[Worker] = ()
    # Paths (relative to the prefix) that take bulk uploads and the larger body limit.
    bulk_paths: tuple[str, ...] = ()
    description: str = ""
    tags: list[dict[str, str]] = field(default_factory=list)
    # The isolation of each request's transaction (shared/db.py get_session):
    # "REPEATABLE READ" where one answer reads several statements that must
    # agree, as the figures do; None keeps PostgreSQL's READ COMMITTED.
    isolation_level: str | None = None


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])
    head = head_revision()

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="The database answers and the schema is current")
    async def readyz() -> dict[str, str]:
        try:
            async with get_database().engine.connect() as conn:
                current = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception:
            raise ServiceUnavailable(
                "The database cannot be reached.", headers={"Retry-After": "5"}
            ) from None
        if current != head:
            raise ServiceUnavailable(
                "The schema is not at the current migration; run `warnex migrate`.",
                headers={"Retry-After": "30"},
            )
        return {"status": "ready", "schema": str(current)}

    router.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    return router


@asynccontextmanager
async def _workers(spec: ServiceSpec) -> AsyncIterator[None]:
    settings = get_settings()
    if not settings.run_workers or not (spec.consumers or spec.jobs or spec.workers):
        yield
        return
    lock_path = os.environ.get(WORKERS_LOCK_ENV)
    if not lock_path:
        async with _running(spec):
            yield
        return
    elected = asyncio.create_task(_run_when_elected(spec, Path(f"{lock_path}.{spec.name}")))
    try:
        yield
    finally:
        elected.cancel()
        await asyncio.gather(elected, return_exceptions=True)


async def _run_when_elected(spec: ServiceSpec, lock_path: Path) -> None:
    """Run the service's workers once this process holds `lock_path` (an
    exclusive flock); until then try again every ELECTION_SECONDS. The kernel
    releases the lock when its holder exits, however it dies, so a surviving
    or restarted process takes over."""
    with lock_path.open("ab") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(ELECTION_SECONDS)
        log.info("workers_elected", service=spec.name, pid=os.getpid())
        async with _running(spec):
            await asyncio.Event().wait()  # until cancelled at shut-down


@asynccontextmanager
async def _running(spec: ServiceSpec) -> AsyncIterator[None]:
    from shared.scheduler import start_scheduler

    db = get_database()
    tasks = [
        asyncio.create_task(c.run_forever(db), name=f"consumer:{c.name}") for c in spec.consumers
    ] + [asyncio.create_task(w.run_forever(db), name=f"worker:{w.name}") for w in spec.workers]
    scheduler = start_scheduler(db, spec.jobs) if spec.jobs else None
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def create_service_app(spec: ServiceSpec) -> FastAPI:
    """The FastAPI app of one service, with everything every service has."""
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_format)
        # Fail fast on a policy file with an unknown key or a bad value (PolicyError
        # names it), not at the first request that reads the policy.
        get_policy()
        # Fail fast on a missing or weak secret (and create the embedded default's).
        settings.secret_bytes()
        await open_database(settings)
        try:
            async with _workers(spec):
                yield
        finally:
            await close_database()

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version="1",
        lifespan=lifespan,
        openapi_tags=spec.tags or None,
    )
    app.state.spec = spec
    app.state.isolation_level = spec.isolation_level
    install_error_handlers(app)
    app.include_router(_health_router())
    for router in spec.routers:
        app.include_router(router)
    app.add_middleware(
        BodyMiddleware,
        limit=settings.body_limit_bytes,
        bulk_limit=settings.bulk_body_limit_bytes,
        bulk_paths=tuple(spec.prefix + p for p in spec.bulk_paths),
        idle_seconds=settings.body_idle_seconds,
        deadline_seconds=settings.body_deadline_seconds,
    )
    app.add_middleware(RequestLogMiddleware, service=spec.name)
    _document_problems(app)
    return app


_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem: every 4xx and 5xx answer of warnex.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def _document_problems(app: FastAPI) -> None:
    """Describe every error answer of the OpenAPI document as what it is:
    `application/problem+json` (FastAPI documents its own 422 shape)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        problem = {"$ref": "#/components/schemas/Problem"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if status[:1] in ("4", "5"):
                        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem}}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Problem"] = _PROBLEM_SCHEMA
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
