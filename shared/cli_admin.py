"""`warnex admin ...`: clients, users, secrets."""

import typer

app = typer.Typer(help="Clients, users and secrets.", no_args_is_help=True)
