"""Bearer tokens, principals, roles and region scopes (SPEC §9).

A principal is a department client (one department) or a staff user (a role and
a region scope). Tokens are stored as keyed hashes; the token itself is shown
once, when it is made. Out of scope reads are 404, so that a caller learns
nothing of what lies outside its region.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Literal, Protocol, TypeVar

import orjson
from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from shared.db import SessionDep, fetch_one
from shared.errors import Forbidden, NotFound, Unauthenticated
from shared.models import Principal as PrincipalRow
from shared.pii import derive_key
from shared.rate_limits import check_rate
from shared.regions import covers, is_well_formed, region_level
from shared.settings import get_settings

COUNTY_STAFF = "county_staff"
TOWNSHIP_STAFF = "township_staff"
VILLAGE_STAFF = "village_staff"
VIEWER = "viewer"
ADMIN = "admin"
STAFF_ROLES = (COUNTY_STAFF, TOWNSHIP_STAFF, VILLAGE_STAFF)
ROLES = (*STAFF_ROLES, VIEWER, ADMIN)

# A staff role works at one level: its scope is a region of that level.
STAFF_LEVELS = {COUNTY_STAFF: "county", TOWNSHIP_STAFF: "town", VILLAGE_STAFF: "village"}

TOKEN_PREFIX = "wx_"  # noqa: S105 (a prefix that makes leaked tokens greppable)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling."""

    id: uuid.UUID
    kind: Literal["client", "user"]
    name: str
    department: str | None = None
    role: str | None = None
    region_code: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log and the events name this principal."""
        return f"{self.kind}:{self.id}"

    @property
    def is_staff(self) -> bool:
        return self.kind == "user" and self.role in STAFF_ROLES

    def covers(self, region_code: str) -> bool:
        """Whether `region_code` lies inside this principal's scope."""
        if self.kind != "user" or self.region_code is None:
            return False
        return is_well_formed(region_code) and covers(self.region_code, region_code)


@lru_cache(maxsize=1)
def _pepper() -> bytes:
    # Cached: the embedded default reads the secret from a file.
    return derive_key(get_settings().secret_bytes(), "token-pepper")


def hash_token(token: str) -> bytes:
    """The keyed hash a token is stored and looked up by."""
    return hmac.new(_pepper(), token.encode(), hashlib.sha256).digest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def scope_problem(role: str, region_code: str) -> str | None:
    """Why a user of `role` cannot have `region_code` as scope (a staff role
    works at its own level: county staff for a county, and so on); None if it can."""
    level = STAFF_LEVELS.get(role)
    if level is not None and region_level(region_code) != level:
        return f"{role} works for a {level}; {region_code} is a {region_level(region_code)}"
    return None


async def issue_token(
    session: AsyncSession,
    *,
    kind: Literal["client", "user"],
    name: str,
    department: str | None = None,
    role: str | None = None,
    region_code: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[Principal, str]:
    """Create a principal; return it with its token (the only time the token exists)."""
    if kind == "user":
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if region_code is None or not is_well_formed(region_code):
            raise ValueError("a user needs a well-formed 12-digit region code as scope")
    elif not department:
        raise ValueError("a client needs a department")
    token = new_token()
    row = PrincipalRow(
        kind=kind,
        name=name,
        department=department,
        role=role,
        region_code=region_code,
        token_hash=hash_token(token),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return _principal(row), token


def _principal(row: PrincipalRow) -> Principal:
    return Principal(
        id=row.id,
        kind="client" if row.kind == "client" else "user",
        name=row.name,
        department=row.department,
        role=row.role,
        region_code=row.region_code,
    )


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send `Authorization: Bearer <token>`.")
    return token.strip()


@dataclass(frozen=True, slots=True)
class _TokenRow:
    id: uuid.UUID
    kind: str
    name: str
    department: str | None
    role: str | None
    region_code: str | None
    revoked_at: datetime | None
    expires_at: datetime | None
    statement_timeout: str


# One statement, one round trip: find the caller by its token's hash and, in
# the same statement, bound the rest of the request's transaction by the
# caller's statement timeout (a department client has no role: it is timed as
# `client`). Plain SQL compiled once rather than an ORM select built per
# request: this runs before every authenticated request, and building and
# loading an ORM entity cost more Python than the rest of a one-record push's
# statements together. Nothing is cached across requests, so a revoked or
# expired token fails at its very next request.
_FIND_CALLER = text(
    """
    SELECT id, kind, name, department, role, region_code, revoked_at, expires_at,
           set_config(
               'statement_timeout',
               coalesce(CAST(:timeouts AS jsonb) ->> coalesce(role, kind), :fallback),
               true
           ) AS statement_timeout
    FROM principals
    WHERE token_hash = :token_hash
    """
)


@lru_cache(maxsize=4)
def _timeouts_json(timeouts: tuple[tuple[str, float], ...]) -> str:
    return orjson.dumps({caller: f"{round(s * 1000)}ms" for caller, s in timeouts}).decode()


def _timeout_params() -> dict[str, str]:
    timeouts = get_settings().statement_timeouts()
    return {
        "timeouts": _timeouts_json(tuple(sorted(timeouts.items()))),
        "fallback": f"{round(timeouts['client'] * 1000)}ms",
    }


async def authenticate(request: Request, session: SessionDep) -> Principal:
    """The calling principal; 401 for a missing, unknown, revoked or expired token.
    The request's statements from here on are bounded by the caller's timeout."""
    token = _bearer(request)
    params = {"token_hash": hash_token(token), **_timeout_params()}
    row = await fetch_one(session, _FIND_CALLER, params, into=_TokenRow)
    now = clock.now()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        raise Unauthenticated("The token is unknown, revoked or expired.")
    principal = Principal(
        id=row.id,
        kind="client" if row.kind == "client" else "user",
        name=row.name,
        department=row.department,
        role=row.role,
        region_code=row.region_code,
    )
    await check_rate(principal_id=principal.id, kind=principal.kind)
    # Read by the request log line (the scope's state dict is shared with the middleware).
    request.state.principal_id = str(principal.id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require_role(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting users with one of `roles`; 403 for anyone else."""
    allowed = frozenset(roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.kind != "user" or principal.role not in allowed:
            raise Forbidden("This action needs one of the roles: " + ", ".join(sorted(allowed)))
        return principal

    return dependency


def require_department() -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting department clients only."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.kind != "client":
            raise Forbidden("Only department clients may do this.")
        return principal

    return dependency


def require_staff() -> Callable[..., Awaitable[Principal]]:
    return require_role(*STAFF_ROLES)


def ensure_in_scope(principal: Principal, region_code: str) -> None:
    """404 (not 403) when `region_code` lies outside the principal's scope."""
    if not principal.covers(region_code):
        raise NotFound()


class _Placed(Protocol):
    @property
    def region_code(self) -> str: ...


PlacedT = TypeVar("PlacedT", bound=_Placed)


def row_in_scope(principal: Principal, row: PlacedT | None) -> PlacedT:
    """`row` (a typed row with a `region_code`, from shared.db.fetch_one) if it
    exists inside the principal's scope; 404 otherwise, either way, so that
    existence is not revealed."""
    if row is None:
        raise NotFound()
    ensure_in_scope(principal, row.region_code)
    return row


def scope_region(principal: Principal, requested: str | None) -> str:
    """The region a list or a figure is about: `?region=` if inside the scope
    (404 if not), else the principal's own scope."""
    if principal.region_code is None:
        raise Forbidden("This principal has no region scope.")
    if requested is None:
        return principal.region_code
    ensure_in_scope(principal, requested)
    return requested


Staff = Annotated[Principal, Depends(require_staff())]
CountyStaff = Annotated[Principal, Depends(require_role(COUNTY_STAFF))]
Department = Annotated[Principal, Depends(require_department())]
