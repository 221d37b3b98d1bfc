"""API users and tokens, managed by an admin with direct database access (`jobmon token`)."""

from __future__ import annotations

import hashlib
import secrets

import asyncpg

from jobmon.server.sql import QUERIES as Q

TOKEN_PREFIX = "jm_"


def hash_token(token: str) -> str:
    """What the database keeps of a token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


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
