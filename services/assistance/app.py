"""The assistance service, served under `/assistance/v1`."""

from fastapi import FastAPI

from services.assistance.consumers import CONSUMERS
from services.assistance.gaps import routes as gaps_routes
from services.assistance.jobs import JOBS
from services.assistance.measures import routes as measures_routes
from services.assistance.objects import routes as objects_routes
from services.assistance.visits import routes as visits_routes
from services.assistance.worklists import routes as worklists_routes
from shared.service_app import ServiceSpec, create_service_app

PREFIX = "/assistance/v1"


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="assistance",
        prefix=PREFIX,
        title="warnex assistance (帮扶)",
        routers=[
            measures_routes.router,
            objects_routes.router,
            gaps_routes.router,
            worklists_routes.router,
            visits_routes.router,
        ],
        consumers=CONSUMERS,
        jobs=JOBS,
    )


def create_app() -> FastAPI:
    return create_service_app(spec())
