"""All four services in one ASGI app, each mounted under its API.md prefix.

Starlette runs no lifespan of a mounted app, so this parent runs each
service's start-up and shut-down itself (as Airflow's api_fastapi does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from services.assistance import app as assistance
from services.identification import app as identification
from services.reporting import app as reporting
from services.warning_ingest import app as warning_ingest
from shared.errors import install_error_handlers

SERVICES: dict[str, tuple[str, Callable[[], FastAPI]]] = {
    "warning_ingest": (warning_ingest.PREFIX, warning_ingest.create_app),
    "identification": (identification.PREFIX, identification.create_app),
    "assistance": (assistance.PREFIX, assistance.create_app),
    "reporting": (reporting.PREFIX, reporting.create_app),
}


def create_app(services: Sequence[str] | None = None) -> FastAPI:
    """The app serving `services` (all four by default) at their prefixes."""
    names = list(services or SERVICES)
    unknown = set(names) - set(SERVICES)
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(sorted(unknown))}")
    mounted = {name: SERVICES[name][1]() for name in names}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for sub in mounted.values():
                await stack.enter_async_context(sub.router.lifespan_context(sub))
            yield

    parent = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    parent.state.services = mounted
    install_error_handlers(parent)
    for name, sub in mounted.items():
        parent.mount(SERVICES[name][0], sub)
    return parent
