"""The assistance service, served under `/assistance/v1`."""

from fastapi import FastAPI

from shared.service_app import ServiceSpec, create_service_app

PREFIX = "/assistance/v1"


def spec() -> ServiceSpec:
    return ServiceSpec(name="assistance", prefix=PREFIX, title="warnex assistance (帮扶)")


def create_app() -> FastAPI:
    return create_service_app(spec())
