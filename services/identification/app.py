"""The identification service, served under `/identification/v1`."""

from fastapi import FastAPI

from shared.service_app import ServiceSpec, create_service_app

PREFIX = "/identification/v1"


def spec() -> ServiceSpec:
    return ServiceSpec(
        name="identification", prefix=PREFIX, title="warnex identification (识别认定)"
    )


def create_app() -> FastAPI:
    return create_service_app(spec())
