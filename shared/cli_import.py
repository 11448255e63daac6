"""`warnex import ...`: registry loads from CSV or NDJSON."""

import typer

app = typer.Typer(help="Load the registry from files.", no_args_is_help=True)
