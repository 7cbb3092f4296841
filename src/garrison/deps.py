"""Typed dependencies, declared once as ``Annotated`` aliases and used by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.cache import Cache
from garrison.config import Settings
from garrison.db import Database


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _cache(request: Request) -> Cache:
    cache: Cache = request.app.state.cache
    return cache


async def _db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the handler succeeds, rolled back when it raises."""
    async with _database(request).transaction() as session:
        yield session


AppSettings = Annotated[Settings, Depends(_settings)]
AppDatabase = Annotated[Database, Depends(_database)]
AppCache = Annotated[Cache, Depends(_cache)]
# scope="function": the commit happens before the response is sent, so a failed commit is an error
# response, never a success the database does not hold.
DbSession = Annotated[AsyncSession, Depends(_db_session, scope="function")]
