"""Schema migrations (Alembic), the only way Garrison's schema is created or changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from garrison.db import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every instance running migrations at once.
_ADVISORY_LOCK_KEY = 0x6761727269736F6E  # "garrison"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _run(database: Database, action: Callable[[Config], Any]) -> None:
    config = alembic_config()

    def call(connection: Connection) -> None:
        config.attributes["connection"] = connection
        action(config)

    async with database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Instances starting together migrate one at a time; the lock ends with the transaction.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
        await connection.run_sync(call)
        await connection.commit()


async def upgrade(database: Database, revision: str = "head") -> None:
    await _run(database, lambda config: command.upgrade(config, revision))


async def downgrade(database: Database, revision: str) -> None:
    await _run(database, lambda config: command.downgrade(config, revision))


async def current_revision(database: Database) -> str | None:
    async with database.engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
