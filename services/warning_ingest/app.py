"""The warning_ingest service, served under `/ingest/v1`."""

from fastapi import FastAPI

from services.warning_ingest import registry_routes
from shared.service_app import ServiceSpec, create_service_app

PREFIX = "/ingest/v1"


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="warning_ingest",
        prefix=PREFIX,
        title="warnex warning ingest (部门筛查预警)",
        routers=[registry_routes.router],
        bulk_paths=("/registry/",),
    )


def create_app() -> FastAPI:
    return create_service_app(spec())
