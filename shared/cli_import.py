"""`warnex import ...`: registry loads from CSV or NDJSON.

Each command streams its file (a progress bar counts the bytes read), loads
it in one transaction, prints the counts and the first rejected records
(index, field and code only, never a value) and exits 1 if any was rejected.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

if TYPE_CHECKING:
    from shared.registry import LoadResult

# The registry modules are imported inside the commands: `warnex --help` and
# the other commands should not pay for SQLAlchemy and the models.
Kind = Literal["households", "regions"]
app = typer.Typer(help="Load the registry from files.", no_args_is_help=True)

ACTOR = "cli"
ERRORS_SHOWN = 20
# Errors kept in memory for the summary; the rejected count stays exact.
ERRORS_KEPT = 1000

FileArgument = Annotated[
    Path,
    typer.Argument(
        help="A .csv, .ndjson or .jsonl file.", exists=True, dir_okay=False, readable=True
    ),
]

err = Console(stderr=True)


@app.command("households")
def households(file: FileArgument) -> None:
    """Upsert households with their members (CSV with a JSON `members` column
    or one row per member, or NDJSON with one household per line)."""
    _import(file, "households")


@app.command("regions")
def regions(file: FileArgument) -> None:
    """Upsert regions (CSV `code,name[,attributes]` with attributes separated by `;`,
    or NDJSON `{"code", "name", "attributes"?}` lines)."""
    _import(file, "regions")


def _import(file: Path, kind: Kind) -> None:
    # Imported here: shared.cli imports this module.
    from shared.cli import run
    from shared.registry.files import UnsupportedFile, file_format, file_records

    try:
        fmt = file_format(file)
    except UnsupportedFile as exc:
        err.print(f"[red]cannot read {file.name}:[/red] {exc}")
        raise typer.Exit(2) from None
    progress = Progress(
        TextColumn(f"{kind} [bold]{file.name}[/bold]"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = progress.add_task("read", total=file.stat().st_size)
    with file.open("rb") as handle, progress:
        try:
            records = file_records(
                handle,
                kind=kind,
                fmt=fmt,
                on_bytes=lambda n: progress.advance(task, n),
            )
        except UnsupportedFile as exc:
            err.print(f"[red]cannot read {file.name}:[/red] {exc}")
            raise typer.Exit(2) from None
        result = run(lambda: _load(kind, records))
    _report(kind, result)
    if result.rejected:
        raise typer.Exit(1)


async def _load(kind: Kind, records: Any) -> LoadResult:
    from shared import clock
    from shared.cli import open_migrated
    from shared.db import close_database
    from shared.pii import PiiProtector
    from shared.registry import load_households, load_regions
    from shared.settings import get_settings

    db = await open_migrated()
    try:
        async with db.transaction() as session:
            if kind == "regions":
                return await load_regions(session, records, actor=ACTOR, max_errors=ERRORS_KEPT)
            return await load_households(
                session,
                records,
                protector=PiiProtector.from_secret(get_settings().secret_bytes()),
                actor=ACTOR,
                today=clock.today(),
                max_errors=ERRORS_KEPT,
            )
    finally:
        await close_database()


def _report(kind: Kind, result: LoadResult) -> None:
    typer.echo(f"{kind}: {result.upserted} upserted, {result.rejected} rejected")
    for rejected in result.errors[:ERRORS_SHOWN]:
        problems = ", ".join(f"{e['field']} {e['code']}" for e in rejected["errors"])
        typer.echo(f"  record {rejected['index']}: {problems}")
    if result.rejected > ERRORS_SHOWN:
        typer.echo(f"  ... and {result.rejected - ERRORS_SHOWN} more rejected")
