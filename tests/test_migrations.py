"""Migrations are the only way the schema is made: they upgrade, downgrade and match the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from garrison import migrate
from garrison.db import Database
from garrison.models import Base
from tests.conftest import make_settings
from tests.fixtures.backends import DatabaseFactory

APP_TABLES = {table.name for table in Base.metadata.sorted_tables}


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names) - {"alembic_version"}


async def test_upgrade_downgrade_upgrade(databases: DatabaseFactory, tmp_path: Path) -> None:
    database = Database(make_settings(await databases.create(), tmp_path))
    try:
        assert await migrate.current_revision(database) is None
        await migrate.upgrade(database)
        assert await migrate.current_revision(database) == migrate.head_revision()
        assert await _tables(database) == APP_TABLES
        await migrate.downgrade(database, "base")
        assert await migrate.current_revision(database) is None
        assert await _tables(database) == set()
        await migrate.upgrade(database)
        assert await _tables(database) == APP_TABLES
    finally:
        await database.dispose()


async def test_migrations_match_the_models(databases: DatabaseFactory, tmp_path: Path) -> None:
    database = Database(make_settings(await databases.create(), tmp_path))
    try:
        await migrate.upgrade(database)
        async with database.engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await database.dispose()
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


async def test_sqlite_enforces_foreign_keys_and_uses_wal(tmp_path: Path) -> None:
    database = Database(make_settings(f"sqlite+aiosqlite:///{tmp_path}/fk.db", tmp_path))
    try:
        async with database.engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        await database.dispose()
