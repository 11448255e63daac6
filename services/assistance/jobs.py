"""The scheduled jobs of assistance."""

from shared.scheduler import Job

JOBS: list[Job] = []
