"""`warnex admin ...`: department clients, staff users and the deployment secret.

A command that makes a token prints it once, alone on the last line of standard
output (API.md, "Precise rules"), so that a script can take it with `tail -n 1`;
everything else it says goes to standard error.

shared.cli imports this module, so its `run` and `open_migrated` are imported
inside the commands.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlmodel import col

from shared import catalog, clock
from shared.audit import record
from shared.auth import ROLES, Principal, hash_token, issue_token, scope_problem
from shared.db import close_database
from shared.models import Principal as PrincipalRow
from shared.models import Region as RegionRow
from shared.regions import InvalidRegionCode, region_level
from shared.settings import get_settings, new_secret

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# The departments that push warnings (SPEC §3): 医保, 民政, 住建, 水利, 人社, 卫健,
# 残联, 应急管理, 教育, 农业农村. Moves to shared/catalog.py with the other catalogs.
# The catalog's department codes, in its order.
DEPARTMENTS = tuple(catalog.DEPARTMENTS)

NAME_MAX = 100  # principals.name is VARCHAR(100)

app = typer.Typer(help="Clients, users and secrets.", no_args_is_help=True)
err = Console(stderr=True)


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of: {', '.join(choices)}")
        return value

    return check


def _name(value: str | None) -> str | None:
    if value is not None and not (0 < len(value.strip()) <= NAME_MAX):
        raise typer.BadParameter(f"a name must be 1 to {NAME_MAX} characters")
    return value.strip() if value is not None else None


def _region(value: str) -> str:
    try:
        region_level(value)
    except InvalidRegionCode as exc:
        raise typer.BadParameter(f"{value!r}: {exc}") from None
    return value


ExpiresDays = Annotated[
    int | None,
    typer.Option("--expires-days", min=1, help="The token stops working after N days."),
]


async def _region_known(session: AsyncSession, code: str) -> bool:
    known = select(col(RegionRow.code)).where(col(RegionRow.code) == code)
    return bool(await session.scalar(known))


def _issue(
    *,
    kind: Literal["client", "user"],
    name: str,
    expires_days: int | None,
    **scope: str,
) -> None:
    """Create a principal and its audit row in one transaction; print the token."""
    from shared.cli import open_migrated, run

    async def body() -> tuple[Principal, str]:
        expires_at = clock.now() + timedelta(days=expires_days) if expires_days else None
        db = await open_migrated()
        try:
            async with db.transaction() as session:
                if kind == "user" and not await _region_known(session, scope["region_code"]):
                    raise typer.BadParameter(
                        f"{scope['region_code']} is not a loaded region "
                        "(load them with `warnex import regions` first)",
                        param_hint="--region",
                    )
                principal, token = await issue_token(
                    session, kind=kind, name=name, expires_at=expires_at, **scope
                )
                await record(
                    session,
                    actor="cli",
                    action="principal.created",
                    target_type="principal",
                    target_id=str(principal.id),
                    details={"kind": kind, **scope},
                )
        finally:
            await close_database()
        return principal, token

    principal, token = run(body)
    err.print(f"created {kind} {principal.id}; its token, shown this once:")
    typer.echo(token)


@app.command("create-client")
def create_client(
    department: Annotated[
        str,
        typer.Option(
            callback=_one_of(DEPARTMENTS),
            help="The department whose warnings the client pushes: " + ", ".join(DEPARTMENTS),
        ),
    ],
    name: Annotated[
        str | None, typer.Option(callback=_name, help="Defaults to the department code.")
    ] = None,
    expires_days: ExpiresDays = None,
) -> None:
    """Create a department client and print its token once."""
    _issue(
        kind="client",
        name=name or department,
        expires_days=expires_days,
        department=department,
    )


@app.command("create-user")
def create_user(
    role: Annotated[
        str, typer.Option(callback=_one_of(ROLES), help="One of " + ", ".join(ROLES) + ".")
    ],
    region: Annotated[
        str, typer.Option(callback=_region, help="The 12-digit code of the user's scope.")
    ],
    name: Annotated[str, typer.Option(callback=_name, help="The user's name.")],
    expires_days: ExpiresDays = None,
) -> None:
    """Create a staff, viewer or admin user and print its token once. A staff
    role's region is of its level (county staff: a county), and the region is
    one loaded with `warnex import regions`."""
    problem = scope_problem(role, region)
    if problem is not None:
        raise typer.BadParameter(problem, param_hint="--region")
    _issue(
        kind="user",
        name=name,
        expires_days=expires_days,
        role=role,
        region_code=region,
    )


async def _find(session: AsyncSession, target: str) -> PrincipalRow | None:
    try:
        match = col(PrincipalRow.id) == uuid.UUID(target)
    except ValueError:
        match = col(PrincipalRow.token_hash) == hash_token(target)
    query = select(PrincipalRow).where(match).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


@app.command()
def revoke(
    target: Annotated[
        str,
        typer.Argument(metavar="TOKEN_OR_PRINCIPAL_ID", help="A token, or a principal's id."),
    ],
) -> None:
    """Revoke a principal: its token stops working at once."""
    from shared.cli import open_migrated, run

    async def body() -> tuple[str, datetime | None]:
        db = await open_migrated()
        try:
            async with db.transaction() as session:
                row = await _find(session, target.strip())
                if row is None:
                    return "", None
                if row.revoked_at is not None:
                    return str(row.id), row.revoked_at
                row.revoked_at = clock.now()
                await record(
                    session,
                    actor="cli",
                    action="principal.revoked",
                    target_type="principal",
                    target_id=str(row.id),
                )
                return str(row.id), None
        finally:
            await close_database()

    principal_id, already = run(body)
    if not principal_id:
        # Never echo the argument: it may be a token.
        err.print("[red]no principal has that token or id[/red]")
        raise typer.Exit(1)
    if already is not None:
        err.print(f"principal {principal_id} was already revoked at {already.isoformat()}")
        return
    err.print(f"revoked principal {principal_id}")


def _when(instant: datetime | None) -> str:
    if instant is None:
        return ""
    return instant.astimezone(get_settings().zone).strftime("%Y-%m-%d %H:%M")


@app.command("list-principals")
def list_principals() -> None:
    """List clients and users (never a token or its hash)."""
    from shared.cli import open_migrated, run

    async def body() -> list[PrincipalRow]:
        db = await open_migrated()
        try:
            async with db.transaction() as session:
                query = select(PrincipalRow).order_by(
                    col(PrincipalRow.created_at), col(PrincipalRow.id)
                )
                return list((await session.execute(query)).scalars())
        finally:
            await close_database()

    table = Table("id", "kind", "name", "department/role", "region", "created", "revoked")
    table.columns[0].no_wrap = True  # ids are copied into `revoke`: never fold or cut them
    table.columns[0].min_width = 36
    for row in run(body):
        table.add_row(
            str(row.id),
            row.kind,
            row.name,
            row.department or row.role or "",
            row.region_code or "",
            _when(row.created_at),
            _when(row.revoked_at),
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # piped or redirected: no terminal width to fit
    console.print(table)


@app.command("new-secret")
def new_secret_command() -> None:
    """Print a fresh value for WARNEX_SECRET_KEY (32 random bytes, base64)."""
    typer.echo(new_secret())
