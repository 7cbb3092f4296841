"""Database engine and session factory; the request owns the transaction (see :func:`request_session`)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Insert, Table, bindparam, event, insert, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from garrison.config import Settings
from garrison.kit.clock import Clock, use_clock
from garrison.kit.schemas import lenient_json_loads

_SQLITE_BEGIN = "garrison_sqlite_begin"
AFTER_COMMIT = "garrison_after_commit"
AfterCommit = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, hook: AfterCommit) -> None:
    """Run ``hook`` once this session's transaction has committed (e.g. to update caches)."""
    session.info.setdefault(AFTER_COMMIT, []).append(hook)


TableRow = tuple[Table, dict[str, Any]]  # a row to insert: its table, its columns' values
# A statement to run after the rows, built once (so that its compiled form is cached), and its
# parameters: a dict, or on engines other than PostgreSQL a list of dicts (executemany).
Then = tuple[Insert, dict[str, Any] | list[dict[str, Any]]]


def _row_insert(table: Table, columns: tuple[str, ...], n: int) -> Insert:
    values = {name: bindparam(f"r{n}_{name}", type_=table.c[name].type) for name in columns}
    return insert(table).values(values)


@functools.lru_cache(maxsize=64)
def _chained(shape: tuple[tuple[Table, tuple[str, ...]], ...], then: Insert | None) -> Insert:
    """One INSERT with the others before it as data-modifying CTEs, every value a bind parameter named
    ``r<n>_<column>``. Built once per shape: SQLAlchemy then finds its compiled form in its cache
    instead of compiling a statement that carries its values."""
    inserts = [_row_insert(table, columns, n) for n, (table, columns) in enumerate(shape)]
    last = then
    if last is None:
        *inserts, last = inserts
    return last.add_cte(*[statement.cte(f"insert_{n}") for n, statement in enumerate(inserts)])


@functools.lru_cache(maxsize=64)
def _single(table: Table, columns: tuple[str, ...]) -> Insert:
    return _row_insert(table, columns, 0)


async def insert_rows(session: AsyncSession, rows: Sequence[TableRow], then: Then | None = None) -> None:
    """INSERT rows into several tables, then run ``then`` (an upsert, say): on PostgreSQL in one
    statement (data-modifying CTEs, so one round trip; foreign keys are checked at its end), elsewhere
    one statement each, in order.

    Each row names every column it sets, defaults included. Changes pending in the session are
    flushed first, so that the rows never precede those they refer to.
    """
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    if connection.dialect.name == "postgresql" and len(rows) + (then is not None) > 1:
        params: dict[str, Any] = {}
        for n, (_, values) in enumerate(rows):
            params.update({f"r{n}_{name}": value for name, value in values.items()})
        if then is not None:
            if not isinstance(then[1], dict):
                raise TypeError("on PostgreSQL the statement after the rows takes one dict of parameters")
            params.update(then[1])
        shape = tuple((table, tuple(values)) for table, values in rows)
        await connection.execute(_chained(shape, then[0] if then else None), params)
        return
    for table, values in rows:
        statement = _single(table, tuple(values))
        await connection.execute(statement, {f"r0_{name}": value for name, value in values.items()})
    if then is not None:
        await connection.execute(then[0], then[1])


# Functions SQLite connections get (name -> (arity, function)); features register theirs at import.
_SQLITE_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {}


def register_sqlite_function(name: str, arity: int, function: Callable[..., Any]) -> None:
    """Make ``function`` callable in SQL on every SQLite connection opened from now on (deterministic)."""
    _SQLITE_FUNCTIONS[name] = (arity, function)


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Foreign keys and WAL on every connection; explicit BEGIN so SAVEPOINT and DDL are transactional.

    pysqlite (and so aiosqlite) otherwise starts transactions implicitly and only before DML; SQLAlchemy
    documents this recipe for the aiosqlite dialect.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        for name, (arity, function) in _SQLITE_FUNCTIONS.items():
            dbapi_connection.create_function(name, arity, function, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A transaction that will write takes the write lock up front (BEGIN IMMEDIATE), waiting on
        # busy_timeout; a deferred one that reads and then writes could fail at once with SQLITE_BUSY
        # if another writer committed in between.
        mode = connection.get_execution_options().get(_SQLITE_BEGIN, "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.database
    if settings.is_sqlite:
        path = _sqlite_file(url)
        if path is not None:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        engine = create_async_engine(
            url, connect_args={"timeout": settings.db_connect_timeout}, json_deserializer=lenient_json_loads
        )
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_args={"timeout": settings.db_connect_timeout},
        json_deserializer=lenient_json_loads,
    )
    event.listen(engine.sync_engine.pool, "checkout", _discard_if_closed)
    return engine


def _discard_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Replace a pooled connection the server has closed (restart, terminated backend) at checkout.

    asyncpg sees the server's close as soon as the event loop reads the socket, so this check costs no
    round trip, unlike ``pool_pre_ping`` (which on asyncpg sends BEGIN, a query and ROLLBACK). Raising
    DisconnectionError here makes the pool discard the connection and check out another (SQLAlchemy's
    documented custom pessimistic disconnect handling). A close not seen yet surfaces at BEGIN, which
    :meth:`Database.transaction` retries.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this connection")


async def _live_connection(session: AsyncSession) -> None:
    """Check the session's connection out now, and make sure its server has not closed it.

    Public API only: the checkout listener (:func:`_discard_if_closed`) replaces connections asyncpg
    already knows are closed; a close it learns of between checkout and here (the event loop ran in
    between) is caught by asking the driver connection, and that connection is invalidated and replaced
    once. Nothing has been sent on it yet, so replacing it is always safe.
    """
    for attempt in (1, 2):
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if driver is None or not driver.is_closed() or attempt == 2:
            return
        await connection.invalidate()
        await session.rollback()


class Database:
    """Owns the engine and hands out sessions; one instance per application."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        # The application's clock: set for every transaction, so that rows stamped by column defaults
        # read it (tests move time instead of sleeping, STYLE rule 11).
        self.clock = clock
        self.engine = create_engine(settings)
        self._postgres = self.engine.dialect.name == "postgresql"
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self._writer_sessions = async_sessionmaker(
            self.engine.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
            if settings.is_sqlite
            else self.engine,
            expire_on_commit=False,
            autoflush=True,
        )
        self._autocommit_sessions = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncSession]:
        """A session for work that is one statement, atomic by itself (e.g. a conditional UPDATE).

        On PostgreSQL each statement runs in autocommit, its own transaction: no BEGIN and COMMIT
        round trips. So a second statement would not be atomic with the first: use
        :meth:`transaction` for anything more. Elsewhere (SQLite) this is a write transaction.
        A connection the server closed is replaced at checkout, but a statement that fails on a
        connection lost meanwhile is not retried: it may have been carried out.
        """
        if self.clock is not None:
            use_clock(self.clock)
        if not self._postgres:
            async with self.transaction(write=True) as session:
                yield session
            return
        async with self._autocommit_sessions() as session:
            yield session
            await session.commit()  # in autocommit, only SQLAlchemy's bookkeeping

    @asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[AsyncSession]:
        """A session whose work commits when the block succeeds and rolls back when it raises.

        ``write=True`` declares that the transaction will write (matters on SQLite). Hooks registered
        with :func:`after_commit` run after a successful commit.
        """
        if self.clock is not None:
            use_clock(self.clock)
        factory = self._writer_sessions if write else self.sessions
        async with factory() as session:
            if self._postgres:
                await _live_connection(session)
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            for hook in session.info.pop(AFTER_COMMIT, []):
                await hook()

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
