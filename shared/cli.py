"""The `warnex` command.

It finds the services through the `warnex.apps` and `warnex.jobs` entry points
(pyproject.toml), so that shared/ never imports services.*.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from shared import cli_admin, cli_import
from shared.policy import PolicyError, get_policy
from shared.settings import UnsafeSettings, get_settings, reset_settings

app = typer.Typer(
    name="warnex",
    help="warnex: the cross-department warning exchange (防止返贫动态监测和帮扶).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(cli_admin.app, name="admin")
app.add_typer(cli_import.app, name="import")
db_app = typer.Typer(help="The database in use.", no_args_is_help=True)
jobs_app = typer.Typer(help="Scheduled jobs: list them, or run one now.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")

err = Console(stderr=True)
T = TypeVar("T")
SERVICE_NAMES = ["all", "warning_ingest", "identification", "assistance", "reporting"]


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run an async command body, turning unsafe settings into a clear exit."""
    try:
        return asyncio.run(coro_fn())  # type: ignore[arg-type]
    except UnsafeSettings as exc:
        err.print(f"[red]refusing to start:[/red] {exc}")
        raise typer.Exit(2) from None


@app.callback()
def main_options(
    config: Annotated[
        Path | None, typer.Option("--config", help="A warnex.toml with settings.", exists=True)
    ] = None,
) -> None:
    if config is not None:
        # An environment variable, so that every process this one starts reads it too.
        os.environ["WARNEX_CONFIG"] = str(config.resolve())
        reset_settings()
        get_policy.cache_clear()


async def open_migrated() -> Any:
    """Open the process's database and bring its schema up to date."""
    from shared.db import open_database
    from shared.migrate import migrate

    db = await open_database(get_settings())
    await migrate(db.engine)
    return db


@app.command()
def migrate() -> None:
    """Bring the schema up to date (safe to run from many processes at once)."""

    async def body() -> None:
        from shared.db import close_database
        from shared.migrate import head_revision

        await open_migrated()
        await close_database()
        typer.echo(f"schema at {head_revision()}")

    run(body)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    service: Annotated[
        str, typer.Option(help="Serve one service, or all four in one process.")
    ] = "all",
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port; one of them runs the event consumers"
            " and scheduled jobs (a survivor takes over if it dies).",
        ),
    ] = 1,
) -> None:
    """Migrate, then serve the API (all four services by default)."""
    import uvicorn

    if service not in SERVICE_NAMES:
        err.print(f"[red]unknown service {service!r}[/red]; one of {', '.join(SERVICE_NAMES)}")
        raise typer.Exit(2)
    settings = get_settings()
    try:
        get_policy()
    except PolicyError as exc:
        err.print(f"[red]refusing to start:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None

    async def prepare() -> None:
        from shared.db import close_database

        await open_migrated()
        await close_database()

    run(prepare)
    where = (
        "embedded PostgreSQL in " + str(settings.data_dir) if settings.embedded else "DATABASE_URL"
    )
    processes = f", {workers} processes" if workers > 1 else ""
    err.print(f"warnex serving {service} on http://{host}:{port} ({where}{processes})")
    err.print(f"  try http://{host}:{port}/ingest/v1/docs")
    # A stop waits up to 30 s for requests in flight, then closes what is left.
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        "timeout_graceful_shutdown": 30,
    }
    if workers > 1:
        _serve_processes(service, workers, options)
        return
    # uvicorn re-raises SIGTERM once it has shut down; with the default handler the
    # process would die before atexit stops the embedded server it started.
    signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))
    uvicorn.run(serve_app(service), **options)


SERVE_SERVICE_ENV = "WARNEX_SERVE_SERVICE"


def serve_app(service: str | None = None) -> Any:
    """The ASGI app `warnex serve` runs: `service` (default: the one named in
    WARNEX_SERVE_SERVICE, else all four). uvicorn's worker processes build it by name."""
    service = service or os.environ.get(SERVE_SERVICE_ENV, "all")
    (factory,) = [ep for ep in entry_points(group="warnex.apps") if ep.name == "all"]
    app = factory.load()(None if service == "all" else [service])
    # What start-up built (modules, routes, schemas: ~200k objects) lives as
    # long as the process; frozen, the collector stops rescanning it in every
    # full collection, each of which otherwise paused all requests ~0.1 s.
    gc.collect()
    gc.freeze()
    return app


def _serve_processes(service: str, workers: int, options: dict[str, Any]) -> None:
    """uvicorn's supervisor: `workers` processes accept on one socket, and a
    process that dies is replaced. Each builds the app by name (serve_app) and
    elects, through a lock file of this run, one process to run the workers."""
    import shutil
    import tempfile

    import uvicorn

    from shared.embedded import SERVER_URI_ENV, start_server
    from shared.service_app import WORKERS_LOCK_ENV

    settings = get_settings()
    settings.secret_bytes()  # the embedded default's is made once, here, not by each process
    run_dir = tempfile.mkdtemp(prefix="warnex-serve-")
    # The worker processes inherit the environment.
    if settings.embedded:  # started by this process (`prepare`), which stops it at exit
        os.environ[SERVER_URI_ENV] = start_server(settings.data_dir)
    os.environ[SERVE_SERVICE_ENV] = service
    os.environ[WORKERS_LOCK_ENV] = str(Path(run_dir) / "workers.lock")
    try:
        # The supervisor handles SIGTERM and SIGINT itself: it stops the
        # processes (each finishing its requests), then returns here, and
        # atexit stops an embedded server once no process uses it.
        uvicorn.run("shared.cli:serve_app", factory=True, workers=workers, **options)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


@db_app.command("url")
def db_url() -> None:
    """Print the connection URL in use (for psql and pg_dump)."""
    from shared.db import plain_url

    settings = get_settings()
    if settings.database_url:
        typer.echo(plain_url(settings.database_url))
        return
    from shared.embedded import keep_running_url

    typer.echo(run(lambda: keep_running_url(settings.data_dir)))


def _jobs() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group="warnex.jobs")}


@jobs_app.command("list")
def jobs_list() -> None:
    """List the scheduled jobs."""
    for name, ep in sorted(_jobs().items()):
        job = ep.load()
        typer.echo(f"{name}\tevery {job.every}\t{job.description}")


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="The job's name, e.g. overdue-scan.")],
) -> None:
    """Run one job now, under the same lock the scheduler takes."""
    jobs = _jobs()
    if name not in jobs:
        err.print(f"[red]no job {name!r}[/red]; known: {', '.join(sorted(jobs)) or 'none yet'}")
        raise typer.Exit(2)
    job = jobs[name].load()

    async def body() -> Any:
        from shared import clock
        from shared.db import close_database
        from shared.scheduler import run_job

        db = await open_migrated()
        try:
            return await run_job(db, job, now=clock.now(), manual=True)
        finally:
            await close_database()

    outcome = run(body)
    typer.echo(f"{name}: {outcome}")


DEMO_SIZES = ("small", "county", "province")


def _demo_size(value: str) -> str:
    if value not in DEMO_SIZES:
        raise typer.BadParameter(f"{value!r} is not one of: {', '.join(DEMO_SIZES)}")
    return value


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="The same seed gives the same registry.")] = 1,
    size: Annotated[
        str,
        typer.Option(
            callback=_demo_size,
            help="small (3 towns, ~2k households: tests), county (12 towns, ~60k households,"
            " under 2 minutes) or province (10 counties, ~600k households: slow,"
            " about 10 minutes).",
        ),
    ] = "county",
) -> None:
    """Migrate, then load a realistic synthetic county into the empty database in
    use (embedded by default) and print tokens and URLs to try."""
    from shared.observability import configure_logging

    # One log line per in-process request would bury the summary.
    configure_logging("WARNING", get_settings().log_format)
    (loader,) = [ep for ep in entry_points(group="warnex.demo") if ep.name == "load"]
    load_demo = loader.load()

    async def body() -> Any:
        from shared.db import close_database

        db = await open_migrated()
        try:
            return await load_demo(db, seed=seed, size=size, progress=err.print)
        finally:
            await close_database()

    try:
        report = run(body)
    except Exception as exc:
        if not getattr(exc, "refused", False):
            raise
        err.print(f"[red]refusing to load the demo:[/red] {exc}")
        raise typer.Exit(1) from None
    for line in report.lines():
        typer.echo(line)


def main() -> None:
    try:
        app()
    except UnsafeSettings as exc:
        err.print(f"[red]refusing to start:[/red] {exc}")
        sys.exit(2)


if __name__ == "__main__":
    main()
