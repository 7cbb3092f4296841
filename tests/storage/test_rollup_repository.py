"""Storage contract of the login rollups' upsert: counts add up and activity bits are OR-ed, whether the
engine takes every row in one statement (PostgreSQL: arrays, unnested) or one row at a time (SQLite)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import select

from garrison.db import Database
from garrison.models import LoginRollup
from garrison.models.rollups import NO_USER, Kind, RollupRow, quarter_of
from garrison.security.repository import LoginRollupRepository

AT = datetime(2030, 6, 1, 10, 20, tzinfo=UTC)


async def _upsert(database: Database, rows: list[RollupRow]) -> None:
    async with database.transaction(write=True) as db:
        statement, params = LoginRollupRepository(db).upsert(rows)
        await db.execute(statement, params)


async def _read(database: Database, organisation_id: uuid.UUID) -> dict[tuple[str, int], LoginRollup]:
    async with database.transaction() as db:
        rows = await db.scalars(select(LoginRollup).where(LoginRollup.organisation_id == organisation_id))
        return {(row.kind, row.period): row for row in rows}


async def test_upserts_add_counts_and_or_activity_bits(app: FastAPI) -> None:
    database: Database = app.state.services.database
    org, user = uuid.uuid4(), uuid.uuid4()
    quarter = quarter_of(AT)
    await _upsert(
        database,
        [
            RollupRow(Kind.QUARTER, quarter, org, NO_USER, success=1),
            RollupRow(Kind.DAY, 100, org, user, head=0b0011, days=0b1, tail=1 << 70),
        ],
    )
    await _upsert(
        database,
        [
            RollupRow(Kind.QUARTER, quarter, org, NO_USER, success=2, failure=3),
            RollupRow(Kind.QUARTER, quarter + 1, org, NO_USER, failure=1),
            RollupRow(Kind.DAY, 100, org, user, head=0b0110, days=0b10, tail=1 << 3),
        ],
    )
    rows = await _read(database, org)
    first, second = rows[(Kind.QUARTER, quarter)], rows[(Kind.QUARTER, quarter + 1)]
    assert (first.success, first.failure) == (3, 3)
    assert (second.success, second.failure) == (0, 1)
    activity = rows[(Kind.DAY, 100)]
    expected = RollupRow(Kind.DAY, 100, org, user, head=0b0111, days=0b11, tail=(1 << 70) | (1 << 3))
    stored = {
        name: getattr(activity, name)
        for name in expected.columns()
        if name.startswith(("head", "tail", "days"))
    }
    assert stored == {name: value for name, value in expected.columns().items() if name in stored}
