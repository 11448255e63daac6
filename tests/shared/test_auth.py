"""Who may call what: tokens, roles, departments and region scopes (SPEC §9).

A small app uses the real dependencies and error handlers, with every request
routed through the rolled-back test session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock
from shared.auth import (
    ADMIN,
    COUNTY_STAFF,
    STAFF_ROLES,
    TOWNSHIP_STAFF,
    VIEWER,
    VILLAGE_STAFF,
    CountyStaff,
    CurrentPrincipal,
    Department,
    Principal,
    Staff,
    ensure_in_scope,
    hash_token,
    issue_token,
    require_role,
    row_in_scope,
    scope_region,
)
from shared.db import get_session
from shared.errors import Forbidden, NotFound, install_error_handlers
from shared.models import Principal as PrincipalRow
from tests.conftest import savepoint_sessions

COUNTY = "610326000000"
TOWNSHIP = "610326100000"
VILLAGE = "610326100201"
OTHER_TOWNSHIP_VILLAGE = "610326101201"
OTHER_COUNTY_VILLAGE = "610327100201"

Reporter = Annotated[Principal, Depends(require_role(VIEWER, *STAFF_ROLES))]


def build_app(session: AsyncSession) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/regions/{code}")
    async def region(code: str, principal: Staff) -> dict[str, str]:
        ensure_in_scope(principal, code)
        return {"code": code}

    @app.get("/county-only")
    async def county_only(principal: CountyStaff) -> dict[str, str]:
        return {"role": str(principal.role)}

    @app.get("/dept")
    async def dept(principal: Department) -> dict[str, str]:
        return {"department": str(principal.department)}

    @app.get("/figures")
    async def figures(principal: Reporter, region: str | None = None) -> dict[str, str]:
        return {"region": scope_region(principal, region)}

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"actor": principal.actor}

    app.dependency_overrides[get_session] = savepoint_sessions(session)
    return app


@pytest.fixture
async def api(session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(session))
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as c:
        yield c


async def user(session: AsyncSession, role: str, region: str, **kwargs: object) -> str:
    _, token = await issue_token(
        session, kind="user", name=f"{role} of {region}", role=role, region_code=region, **kwargs
    )
    return token


async def client_token(session: AsyncSession, department: str = "civil_affairs") -> str:
    _, token = await issue_token(session, kind="client", name=department, department=department)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


async def test_no_authorization_header_is_401_with_www_authenticate(api):
    response = await api.get("/me")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "wx_token"])
async def test_a_header_that_is_not_a_bearer_token_is_401(api, header):
    response = await api.get("/me", headers={"Authorization": header})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_an_unknown_token_is_401(api):
    response = await api.get("/me", headers=bearer("wx_not-a-token-anyone-was-given"))
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_known_token_authenticates_with_any_case_of_bearer(api, session):
    token = await user(session, VIEWER, COUNTY)
    for scheme in ("Bearer", "bearer", "BEARER"):
        response = await api.get("/me", headers={"Authorization": f"{scheme} {token}"})
        assert response.status_code == 200
        assert response.json()["actor"].startswith("user:")


async def test_a_revoked_token_is_401_at_once(api, session):
    principal, token = await issue_token(
        session, kind="user", name="x", role=COUNTY_STAFF, region_code=COUNTY
    )
    assert (await api.get("/me", headers=bearer(token))).status_code == 200
    row = await session.get(PrincipalRow, principal.id)
    assert row is not None
    row.revoked_at = clock.now()
    await session.flush()
    assert_problem(await api.get("/me", headers=bearer(token)), 401)


async def test_an_expired_token_is_401_and_an_unexpired_one_works(api, session):
    now = clock.now()
    expired = await user(session, COUNTY_STAFF, COUNTY, expires_at=now - timedelta(seconds=1))
    valid = await user(session, COUNTY_STAFF, COUNTY, expires_at=now + timedelta(days=1))
    assert_problem(await api.get("/me", headers=bearer(expired)), 401)
    assert (await api.get("/me", headers=bearer(valid))).status_code == 200


async def test_a_token_stops_working_the_instant_it_expires(api, session):
    now = clock.now()
    token = await user(session, COUNTY_STAFF, COUNTY, expires_at=now + timedelta(hours=1))
    with clock.frozen_at(now + timedelta(hours=1)):
        assert_problem(await api.get("/me", headers=bearer(token)), 401)


@pytest.mark.parametrize("role", [TOWNSHIP_STAFF, VILLAGE_STAFF, VIEWER, ADMIN])
async def test_a_role_without_the_right_is_403(api, session, role):
    token = await user(session, role, COUNTY)
    assert_problem(await api.get("/county-only", headers=bearer(token)), 403)


async def test_the_right_role_passes(api, session):
    token = await user(session, COUNTY_STAFF, COUNTY)
    response = await api.get("/county-only", headers=bearer(token))
    assert response.json() == {"role": COUNTY_STAFF}


@pytest.mark.parametrize("role", [VIEWER, ADMIN])
async def test_non_staff_users_cannot_use_staff_routes(api, session, role):
    token = await user(session, role, COUNTY)
    assert_problem(await api.get(f"/regions/{VILLAGE}", headers=bearer(token)), 403)


async def test_a_department_client_calling_a_staff_route_is_403(api, session):
    token = await client_token(session)
    assert_problem(await api.get(f"/regions/{VILLAGE}", headers=bearer(token)), 403)
    assert_problem(await api.get("/county-only", headers=bearer(token)), 403)


async def test_staff_calling_a_department_route_is_403(api, session):
    token = await user(session, COUNTY_STAFF, COUNTY)
    assert_problem(await api.get("/dept", headers=bearer(token)), 403)


async def test_a_department_client_reaches_its_department_route(api, session):
    token = await client_token(session, "medical_insurance")
    response = await api.get("/dept", headers=bearer(token))
    assert response.json() == {"department": "medical_insurance"}


async def test_county_staff_see_their_villages_but_not_another_countys(api, session):
    token = await user(session, COUNTY_STAFF, COUNTY)
    assert (await api.get(f"/regions/{VILLAGE}", headers=bearer(token))).status_code == 200
    assert (await api.get(f"/regions/{COUNTY}", headers=bearer(token))).status_code == 200
    response = await api.get(f"/regions/{OTHER_COUNTY_VILLAGE}", headers=bearer(token))
    assert_problem(response, 404)


async def test_township_staff_cannot_see_a_village_of_another_township(api, session):
    token = await user(session, TOWNSHIP_STAFF, TOWNSHIP)
    assert (await api.get(f"/regions/{VILLAGE}", headers=bearer(token))).status_code == 200
    response = await api.get(f"/regions/{OTHER_TOWNSHIP_VILLAGE}", headers=bearer(token))
    assert_problem(response, 404)
    # Nor the county above it.
    assert_problem(await api.get(f"/regions/{COUNTY}", headers=bearer(token)), 404)


async def test_village_staff_see_only_their_village(api, session):
    token = await user(session, VILLAGE_STAFF, VILLAGE)
    assert (await api.get(f"/regions/{VILLAGE}", headers=bearer(token))).status_code == 200
    assert_problem(await api.get(f"/regions/{TOWNSHIP}", headers=bearer(token)), 404)


async def test_an_out_of_scope_404_reads_like_any_other_404(api, session):
    token = await user(session, COUNTY_STAFF, COUNTY)
    out_of_scope = await api.get(f"/regions/{OTHER_COUNTY_VILLAGE}", headers=bearer(token))
    malformed = await api.get("/regions/not-a-code", headers=bearer(token))
    for response in (out_of_scope, malformed):
        assert_problem(response, 404)
        assert OTHER_COUNTY_VILLAGE not in response.text
    assert out_of_scope.json().keys() == malformed.json().keys()


async def test_tokens_are_stored_only_as_a_keyed_hash(session):
    principal, token = await issue_token(
        session, kind="client", name="civil_affairs", department="civil_affairs"
    )
    row = (
        await session.execute(select(PrincipalRow).where(PrincipalRow.id == principal.id))
    ).scalar_one()
    assert row.token_hash == hash_token(token)
    assert row.token_hash != token.encode()
    assert token.encode() not in row.token_hash
    # Nothing in the row, in any column, holds the token or its bytes.
    whole_row = (
        await session.execute(
            text("SELECT p::text FROM principals p WHERE id = :id"), {"id": principal.id}
        )
    ).scalar_one()
    secret_part = token.removeprefix("wx_")
    assert secret_part not in whole_row
    assert secret_part.encode().hex() not in whole_row


async def test_each_token_is_unique_and_prefixed(session):
    tokens = {await client_token(session) for _ in range(5)}
    assert len(tokens) == 5
    assert all(t.startswith("wx_") and len(t) >= 40 for t in tokens)


async def test_scope_region_defaults_to_the_callers_scope(api, session):
    token = await user(session, TOWNSHIP_STAFF, TOWNSHIP)
    response = await api.get("/figures", headers=bearer(token))
    assert response.json() == {"region": TOWNSHIP}


async def test_scope_region_takes_a_region_inside_the_scope(api, session):
    token = await user(session, VIEWER, COUNTY)
    response = await api.get("/figures", params={"region": VILLAGE}, headers=bearer(token))
    assert response.json() == {"region": VILLAGE}


async def test_scope_region_outside_the_scope_is_404(api, session):
    token = await user(session, VIEWER, COUNTY)
    response = await api.get(
        "/figures", params={"region": OTHER_COUNTY_VILLAGE}, headers=bearer(token)
    )
    assert_problem(response, 404)


def test_scope_region_refuses_a_principal_without_a_scope():
    import uuid

    department = Principal(id=uuid.uuid4(), kind="client", name="x", department="housing")
    with pytest.raises(Forbidden):
        scope_region(department, None)
    with pytest.raises(NotFound):
        ensure_in_scope(department, VILLAGE)


def test_row_in_scope_returns_the_typed_row_inside_the_scope_and_404s_otherwise():
    import uuid
    from dataclasses import dataclass

    @dataclass(frozen=True, slots=True)
    class Placed:
        region_code: str

    staff = Principal(id=uuid.uuid4(), kind="user", name="x", role=COUNTY_STAFF, region_code=COUNTY)
    row = Placed(VILLAGE)
    assert row_in_scope(staff, row) is row
    for outside in (Placed(OTHER_COUNTY_VILLAGE), None):
        with pytest.raises(NotFound):
            row_in_scope(staff, outside)


async def test_issue_token_refuses_a_user_without_a_well_formed_scope(session):
    with pytest.raises(ValueError, match="region code"):
        await issue_token(session, kind="user", name="x", role=COUNTY_STAFF, region_code="6103")
    with pytest.raises(ValueError, match="role"):
        await issue_token(session, kind="user", name="x", role="boss", region_code=COUNTY)
    with pytest.raises(ValueError, match="department"):
        await issue_token(session, kind="client", name="x")
