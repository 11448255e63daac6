"""The warning_ingest service, served under `/ingest/v1`."""

from fastapi import FastAPI

from services.warning_ingest.batches import routes as batches_routes
from services.warning_ingest.consumers import CONSUMERS
from services.warning_ingest.feedback import routes as feedback_routes
from services.warning_ingest.feeds import routes as feeds_routes
from services.warning_ingest.jobs import JOBS
from services.warning_ingest.registry import routes as registry_routes
from services.warning_ingest.roster import routes as roster_routes
from services.warning_ingest.warnings import routes as warnings_routes
from services.warning_ingest.webhooks import routes as webhook_routes
from services.warning_ingest.webhooks.delivery import WEBHOOK_DELIVERIES
from shared.service_app import ServiceSpec, create_service_app

PREFIX = "/ingest/v1"


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="warning_ingest",
        prefix=PREFIX,
        title="warnex warning ingest (部门筛查预警)",
        routers=[
            batches_routes.router,
            warnings_routes.router,
            feeds_routes.router,
            feedback_routes.router,
            registry_routes.router,
            webhook_routes.router,
            roster_routes.router,
        ],
        consumers=CONSUMERS,
        jobs=JOBS,
        workers=[WEBHOOK_DELIVERIES],
        bulk_paths=("/registry/", "/batches"),
    )


def create_app() -> FastAPI:
    return create_service_app(spec())
