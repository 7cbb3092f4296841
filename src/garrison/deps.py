"""Typed dependencies, declared once as ``Annotated`` aliases and used by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.admin.service import AdminService
from garrison.agents.service import AgentService
from garrison.apikeys.service import ApiKeyService
from garrison.authz.deps import Admin, require
from garrison.authz.permissions import Permission
from garrison.cache import Cache
from garrison.config import Settings
from garrison.db import Database
from garrison.identity.passwords import PasswordHasher
from garrison.kit.clock import Clock
from garrison.security.ratelimit import RateLimiter
from garrison.sessions.principal import Principal, authenticate, authenticate_ready
from garrison.sessions.service import SessionService


def _state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency returning one of the objects ``create_app`` put on ``app.state``; the alias
    that uses it declares the type. Dependencies are coroutines: FastAPI runs a plain function in a
    worker thread, a hop that would cost more than the lookup."""

    async def get(request: Request) -> Any:
        return getattr(request.app.state, name)

    get.__name__ = f"app_{name}"
    return get


async def _db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the handler succeeds, rolled back when it raises."""
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    database: Database = request.app.state.database
    async with database.transaction(write=write) as session:
        yield session


AppSettings = Annotated[Settings, Depends(_state("settings"))]
AppDatabase = Annotated[Database, Depends(_state("database"))]
AppCache = Annotated[Cache, Depends(_state("cache"))]
# scope="function": the commit happens before the response is sent, so a failed commit is an error
# response, never a success the database does not hold.
DbSession = Annotated[AsyncSession, Depends(_db_session, scope="function")]
AppClock = Annotated[Clock, Depends(_state("clock"))]
Sessions = Annotated[SessionService, Depends(_state("sessions"))]
Hasher = Annotated[PasswordHasher, Depends(_state("hasher"))]
Limiter = Annotated[RateLimiter, Depends(_state("limiter"))]

# A caller with a valid token whose session is active; refused while a password change is pending.
CurrentPrincipal = Annotated[Principal, Depends(authenticate_ready)]
# The same, but also admits a caller who must change their password (to let them do so).
PendingPrincipal = Annotated[Principal, Depends(authenticate)]

# Admin routes: one alias per permission, each admitting only callers whose roles grant it.
UsersRead = Annotated[Admin, Depends(require(Permission.USERS_READ))]
UsersWrite = Annotated[Admin, Depends(require(Permission.USERS_WRITE))]
UsersBlock = Annotated[Admin, Depends(require(Permission.USERS_BLOCK))]
SessionsRead = Annotated[Admin, Depends(require(Permission.SESSIONS_READ))]
SessionsRevoke = Annotated[Admin, Depends(require(Permission.SESSIONS_REVOKE))]
AuditRead = Annotated[Admin, Depends(require(Permission.AUDIT_READ))]
AnalyticsRead = Annotated[Admin, Depends(require(Permission.ANALYTICS_READ))]
AnomaliesRead = Annotated[Admin, Depends(require(Permission.ANOMALIES_READ))]
AnomaliesWrite = Annotated[Admin, Depends(require(Permission.ANOMALIES_WRITE))]
ApiKeysRead = Annotated[Admin, Depends(require(Permission.API_KEYS_READ))]
ApiKeysWrite = Annotated[Admin, Depends(require(Permission.API_KEYS_WRITE))]
AdminServices = Annotated[AdminService, Depends(_state("admin"))]
ApiKeys = Annotated[ApiKeyService, Depends(_state("api_keys"))]
Agents = Annotated[AgentService, Depends(_state("agents"))]
