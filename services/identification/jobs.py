"""The scheduled jobs of identification."""

from shared.scheduler import Job

JOBS: list[Job] = []
