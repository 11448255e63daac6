"""The identification service, served under `/identification/v1`."""

from fastapi import FastAPI

from services.identification import (
    audit_routes,
    campaigns_routes,
    households_routes,
    list_routes,
    objects_routes,
    problems_routes,
    routes,
    spot_check_routes,
    steps_routes,
)
from services.identification.consumers import CONSUMERS
from services.identification.jobs import JOBS
from shared.service_app import ServiceSpec, create_service_app

PREFIX = "/identification/v1"


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="identification",
        prefix=PREFIX,
        title="warnex identification (识别认定)",
        routers=[
            list_routes.router,
            routes.router,
            steps_routes.router,
            objects_routes.router,
            households_routes.router,
            campaigns_routes.router,
            spot_check_routes.router,
            problems_routes.router,
            audit_routes.router,
        ],
        # Village forms (screenings) and checkers' results come as bulk uploads.
        bulk_paths=("/campaigns/",),
        consumers=CONSUMERS,
        jobs=JOBS,
    )


def create_app() -> FastAPI:
    return create_service_app(spec())
