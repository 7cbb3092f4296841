"""Shared dependencies, declared once as ``Annotated`` aliases: settings, database, cache, clock.

Features declare their own aliases in their ``deps.py`` with :func:`provide`, which finds an object of
the typed composition root (``garrison.services.Services``) by the type the alias declares.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.cache import Cache
from garrison.config import Settings
from garrison.db import Database
from garrison.kit.clock import Clock

T = TypeVar("T")


def provide(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency answering the application's one ``kind`` object (its composition root holds one
    of each type). A coroutine: FastAPI runs a plain function in a worker thread, a hop that would cost
    more than the lookup."""

    async def get(request: Request) -> T:
        provided: dict[type[Any], Any] = request.app.state.provided
        found: T = provided[kind]
        return found

    get.__name__ = f"provide_{kind.__name__}"
    return get


async def _db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction: committed when the handler succeeds, rolled back when it raises."""
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    database: Database = request.app.state.provided[Database]
    async with database.transaction(write=write) as session:
        yield session


AppSettings = Annotated[Settings, Depends(provide(Settings))]
AppDatabase = Annotated[Database, Depends(provide(Database))]
AppCache = Annotated[Cache, Depends(provide(Cache))]
# scope="function": the commit happens before the response is sent, so a failed commit is an error
# response, never a success the database does not hold.
DbSession = Annotated[AsyncSession, Depends(_db_session, scope="function")]
AppClock = Annotated[Clock, Depends(provide(Clock))]
