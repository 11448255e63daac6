"""The typed rows of screening campaigns: a campaign as stored (read by
lookup.py, changed by planning.py, passed to the screenings, the coverage and
the spot checks) and as the API shows it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class CampaignRow:
    """A `campaigns` row."""

    campaign_id: uuid.UUID
    county_code: str
    region_code: str
    name: str
    year: int
    starts_on: date
    # The stored JSON: each phase's name, kind (or null), due_on and done_on
    # (ISO dates; done_on is only set by hand, for the kinds warnex cannot check).
    phases: list[dict[str, Any]]
    reported_figures: dict[str, int]
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PhaseView:
    """A phase as the API shows it (PhaseOut)."""

    name: str
    kind: str | None
    due_on: date
    done_on: date | None
    late: bool


@dataclass(frozen=True, slots=True)
class CampaignView:
    """A campaign with its phases' completion and lateness as of a day (CampaignOut)."""

    campaign_id: uuid.UUID
    name: str
    region_code: str
    year: int
    starts_on: date
    ends_on: date
    phases: tuple[PhaseView, ...]
    reported_figures: dict[str, int]
    late: bool
    created_at: datetime
