"""Who calls in the access matrix (tests/access/test_matrix.py): every kind
of caller, their roles and scopes, and the expectation tables a row is made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.catalog import DEPARTMENTS
from tests.services.identification.screening_helpers import (
    COUNTY,
    OTHER_TOWN,
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
)

# 20 May 2026, 10:00 in Shanghai: inside the 2026 campaign, before its due dates.
NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
TODAY = "2026-05-20"
OTHER_COUNTY = "610327000000"
PUSHER = "health"

CLIENTS = tuple(f"client:{d}" for d in DEPARTMENTS)
STAFF_IN = ("village_in", "township_in", "county_in")
STAFF_OUT = ("village_out", "township_out", "county_out")
USERS = (*STAFF_IN, *STAFF_OUT, "viewer", "viewer_out", "admin")
CALLERS = ("none", "unknown", *CLIENTS, *USERS)
ROLE_OF = {
    "village_in": "village_staff",
    "village_out": "village_staff",
    "township_in": "township_staff",
    "township_out": "township_staff",
    "county_in": "county_staff",
    "county_out": "county_staff",
    "viewer": "viewer",
    "viewer_out": "viewer",
    "admin": "admin",
}
SCOPE_OF = {
    "village_in": VILLAGE,
    "village_out": OTHER_TOWN_VILLAGE,
    "township_in": TOWN,
    "township_out": OTHER_TOWN,
    "county_in": COUNTY,
    "county_out": OTHER_COUNTY,
    "viewer": COUNTY,
    "viewer_out": OTHER_COUNTY,
    "admin": COUNTY,
}


def base(**granted: str) -> dict[str, str]:
    """Everyone refused (401 without a valid token, 403 with one), then `granted`."""
    table = {caller: "403" for caller in CALLERS}
    table["none"] = table["unknown"] = "401"
    table.update(granted)
    return table


def any_caller() -> dict[str, str]:
    """Catalog endpoints: any authenticated caller."""
    return base(**{c: "ok" for c in (*CLIENTS, *USERS)})


def staff(*roles: str) -> dict[str, str]:
    """Staff with one of `roles`: allowed in scope, 404 out of it."""
    wanted = roles or ("village_staff", "township_staff", "county_staff")
    granted: dict[str, str] = {}
    for caller in (*STAFF_IN, *STAFF_OUT):
        if ROLE_OF[caller] in wanted:
            granted[caller] = "ok" if caller in STAFF_IN else "404"
    return base(**granted)


def staff_anywhere(*roles: str) -> dict[str, str]:
    """Staff with one of `roles`, whatever their scope (the answer is about their own)."""
    wanted = roles or ("village_staff", "township_staff", "county_staff")
    return base(**{c: "ok" for c in (*STAFF_IN, *STAFF_OUT) if ROLE_OF[c] in wanted})


def readers() -> dict[str, str]:
    """Reporting: viewers and staff, in scope; 404 out of it."""
    table = staff()
    table.update(viewer="ok", viewer_out="404")
    return table


def clients(**overrides: str) -> dict[str, str]:
    return base(**{c: "ok" for c in CLIENTS}, **overrides)


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[str, str]
    variant: str = ""
    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    xfail: str = ""
    # Why the world lets no caller succeed (steps out of order...): the allowed
    # callers then meet the domain rule (409/422), which still proves they are past
    # authorisation.
    rule: str = ""
    # Placeholders filled from another of the world's ids ({"object_id": "eliminated_id"}).
    use: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")
