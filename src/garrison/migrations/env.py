"""Alembic environment: runs on the connection Garrison hands it (see garrison.migrate)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from garrison.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        # Garrison opens SQLite transactions explicitly (garrison.db), so DDL there is atomic too.
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_standalone() -> None:
    """``alembic`` invoked directly (e.g. ``alembic revision --autogenerate``) from the repository."""
    from garrison.config import load_settings
    from garrison.db import Database

    async def go() -> None:
        database = Database(load_settings())
        try:
            async with database.engine.connect() as connection:
                await connection.run_sync(_run)
                await connection.commit()
        finally:
            await database.dispose()

    asyncio.run(go())


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")

connection = config.attributes.get("connection")
if connection is None:
    _run_standalone()
else:
    _run(connection)
