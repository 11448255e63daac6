"""The reporting service, served under `/reporting/v1`."""

from fastapi import FastAPI

from services.reporting.consumers import CONSUMERS
from services.reporting.dashboard import routes as dashboard_routes
from services.reporting.feeds import routes as feeds_routes
from services.reporting.jobs import JOBS
from services.reporting.overview import routes as overview_routes
from services.reporting.page import routes as page_routes
from services.reporting.progress import routes as progress_routes
from services.reporting.red_flags import routes as red_flags_routes
from services.reporting.todo import routes as todo_routes
from services.reporting.trends import routes as trends_routes
from shared.service_app import ServiceSpec, create_service_app

PREFIX = "/reporting/v1"


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="reporting",
        prefix=PREFIX,
        title="warnex reporting (统计)",
        routers=[
            overview_routes.router,
            feeds_routes.router,
            red_flags_routes.router,
            trends_routes.router,
            progress_routes.router,
            page_routes.router,
            dashboard_routes.router,
            todo_routes.router,
        ],
        consumers=CONSUMERS,
        jobs=JOBS,
        # An answer's figures come from several statements (one per figure
        # group): one snapshot keeps them of one moment.
        isolation_level="REPEATABLE READ",
    )


def create_app() -> FastAPI:
    return create_service_app(spec())
