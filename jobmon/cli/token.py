"""`jobmon token ...`: API tokens of a shared server, managed with direct database access."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from jobmon.cli.common import load_settings, one_line_errors, run_async

T = TypeVar("T")

DATABASE_URL = click.option("--database-url", default="",
                            help="PostgreSQL URL (default: JOBMON__DB__URL, else the embedded "
                                 "PostgreSQL).")


def _with_database(database_url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    from jobmon.server import migrate
    from jobmon.server.main import open_connection, open_database

    settings = load_settings()
    dsn, embedded = open_database(settings, database_url or settings.db.url)

    async def session() -> T:
        connection = await open_connection(dsn)
        try:
            await migrate.check(connection)
            return await work(connection)
        finally:
            await connection.close()

    try:
        return run_async(session)
    finally:
        if embedded is not None:
            embedded.stop()


@click.group()
def token() -> None:
    """API tokens: who may call a shared server (an admin's job)."""


@token.command("create")
@click.option("--user", "user", required=True, help="Whose token: workflows they bind are "
              "theirs, and only they (or an admin) may stop or change them.")
@click.option("--admin", is_flag=True, help="The user may act on every workflow.")
@click.option("--description", default="", help="What the token is for.")
@DATABASE_URL
@one_line_errors
def create(user: str, admin: bool, description: str, database_url: str) -> None:
    """Make a token; it is shown once (only its hash is kept)."""
    from jobmon.server.store import tokens

    if not user.strip():
        raise click.BadParameter("the user name must not be empty", param_hint="--user")
    token_id, value = _with_database(
        database_url, lambda connection: tokens.create_token(connection, user.strip(), admin,
                                                             description))
    click.echo(value)
    click.echo(f"token {token_id} for {user!r}{' (admin)' if admin else ''}; give it to them "
               "as JOBMON__HTTP__TOKEN. It is not shown again.", err=True)


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@DATABASE_URL
@one_line_errors
def list_(as_json: bool, database_url: str) -> None:
    """Every token (never the token itself): id, user, admin, description, revoked."""
    from jobmon.server.store import tokens

    rows = _with_database(database_url, tokens.list_tokens)
    records = [
        {"id": row[0], "user": row[1], "admin": row[2], "description": row[3],
         "created": row[4].isoformat(), "revoked": row[5].isoformat() if row[5] else None}
        for row in rows
    ]
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    for record in records:
        state = f"revoked {record['revoked']}" if record["revoked"] else "active"
        click.echo(f"{record['id']:>5}  {record['user']:<20} "
                   f"{'admin' if record['admin'] else 'user ':<5}  {state}  "
                   f"{record['description']}")


@token.command("revoke")
@click.argument("token_id", type=int)
@DATABASE_URL
@one_line_errors
def revoke(token_id: int, database_url: str) -> None:
    """Revoke a token by id (servers notice within their cache's lifetime)."""
    from jobmon.server.store import tokens

    if not _with_database(database_url,
                          lambda connection: tokens.revoke_token(connection, token_id)):
        raise click.ClickException(f"no active token with id {token_id}")
    click.echo(f"token {token_id} revoked")
