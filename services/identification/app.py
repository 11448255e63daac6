"""The identification service, served under `/identification/v1`."""

from fastapi import FastAPI

from services.identification.audit import routes as audit_routes
from services.identification.campaigns import routes as campaigns_routes
from services.identification.cases import routes as cases_routes
from services.identification.consumers import CONSUMERS
from services.identification.follow_up import routes as follow_up_routes
from services.identification.households import routes as households_routes
from services.identification.jobs import JOBS
from services.identification.objects import routes as objects_routes
from services.identification.problems import routes as problems_routes
from services.identification.requests import routes as requests_routes
from services.identification.spot_checks import routes as spot_check_routes
from services.identification.steps import routes as steps_routes
from shared.service_app import ServiceSpec, create_service_app

PREFIX = "/identification/v1"


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="identification",
        prefix=PREFIX,
        title="warnex identification (识别认定)",
        routers=[
            cases_routes.router,
            steps_routes.router,
            objects_routes.router,
            requests_routes.router,
            households_routes.router,
            campaigns_routes.router,
            spot_check_routes.router,
            problems_routes.router,
            audit_routes.router,
            follow_up_routes.router,
        ],
        # Village forms (screenings) and checkers' results come as bulk uploads.
        bulk_paths=("/campaigns/",),
        consumers=CONSUMERS,
        jobs=JOBS,
    )


def create_app() -> FastAPI:
    return create_service_app(spec())
