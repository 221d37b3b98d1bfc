"""API users and tokens, managed by an admin with direct database access (`jobmon token`)."""

from __future__ import annotations

import asyncpg

from jobmon.server.auth import hash_token, new_token
from jobmon.server.sql import QUERIES as Q


async def create_token(connection: asyncpg.Connection, user: str, admin: bool,
                       description: str) -> tuple[int, str]:
    """A new token for ``user`` (created if needed); returns its id and the token itself."""
    token = new_token()
    async with connection.transaction():
        user_id = await connection.fetchval(Q["upsert_api_user"], user, admin)
        token_id = await connection.fetchval(Q["insert_api_token"], user_id, hash_token(token),
                                             description)
    return int(token_id), token


async def list_tokens(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await connection.fetch(Q["list_api_tokens"]))


async def revoke_token(connection: asyncpg.Connection, token_id: int) -> bool:
    return await connection.fetchval(Q["revoke_api_token"], token_id) is not None
