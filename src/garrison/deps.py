"""Typed dependencies, declared once as ``Annotated`` aliases and used by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.cache import Cache
from garrison.config import Settings
from garrison.db import Database
from garrison.identity.passwords import PasswordHasher
from garrison.kit.clock import Clock
from garrison.security.ratelimit import RateLimiter
from garrison.sessions.principal import Principal, authenticate, authenticate_ready
from garrison.sessions.service import SessionService


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _cache(request: Request) -> Cache:
    cache: Cache = request.app.state.cache
    return cache


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def _sessions(request: Request) -> SessionService:
    service: SessionService = request.app.state.sessions
    return service


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def _hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


async def _db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the handler succeeds, rolled back when it raises."""
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    async with _database(request).transaction(write=write) as session:
        yield session


AppSettings = Annotated[Settings, Depends(_settings)]
AppDatabase = Annotated[Database, Depends(_database)]
AppCache = Annotated[Cache, Depends(_cache)]
# scope="function": the commit happens before the response is sent, so a failed commit is an error
# response, never a success the database does not hold.
DbSession = Annotated[AsyncSession, Depends(_db_session, scope="function")]
AppClock = Annotated[Clock, Depends(_clock)]
Sessions = Annotated[SessionService, Depends(_sessions)]
Hasher = Annotated[PasswordHasher, Depends(_hasher)]
Limiter = Annotated[RateLimiter, Depends(_limiter)]

# A caller with a valid token whose session is active; refused while a password change is pending.
CurrentPrincipal = Annotated[Principal, Depends(authenticate_ready)]
# The same, but also admits a caller who must change their password (to let them do so).
PendingPrincipal = Annotated[Principal, Depends(authenticate)]
