"""The reporting service, served under `/reporting/v1`."""

from fastapi import FastAPI

from services.reporting import (
    dashboard_routes,
    extra_routes,
    progress_routes,
    routes,
    trend_routes,
)
from services.reporting.consumers import CONSUMERS
from services.reporting.jobs import JOBS
from shared.service_app import ServiceSpec, create_service_app

PREFIX = "/reporting/v1"


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="reporting",
        prefix=PREFIX,
        title="warnex reporting (统计)",
        routers=[
            routes.router,
            extra_routes.router,
            trend_routes.router,
            progress_routes.router,
            dashboard_routes.router,
        ],
        consumers=CONSUMERS,
        jobs=JOBS,
    )


def create_app() -> FastAPI:
    return create_service_app(spec())
