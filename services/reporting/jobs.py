"""The scheduled jobs of reporting."""

from shared.scheduler import Job

JOBS: list[Job] = []
