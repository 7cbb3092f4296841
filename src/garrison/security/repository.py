"""SQL for login attempts, anomalies and the per-account failure counter (lockout)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.models import Anomaly, LoginAttempt, LoginRollup, User
from garrison.models.security import ACTIVITY_WORDS
from garrison.security.rollups import RollupRow


class LoginAttemptRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add(self, attempt: LoginAttempt) -> None:
        self.db.add(attempt)
        await self.db.flush()

    async def for_user(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[list[LoginAttempt], int]:
        total = await self.db.scalar(select(func.count()).where(LoginAttempt.user_id == user_id)) or 0
        rows = await self.db.scalars(
            select(LoginAttempt)
            .where(LoginAttempt.user_id == user_id)
            .order_by(LoginAttempt.created_at.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows), total


class LoginRollupRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add(self, rows: Sequence[RollupRow]) -> None:
        """Add ``rows`` to the rollups in one upsert: counts add up, activity bits are OR-ed."""
        dialect = self.db.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(LoginRollup).values([row.columns() for row in rows])
        new = statement.excluded
        row = LoginRollup
        statement = statement.on_conflict_do_update(
            index_elements=[row.kind, row.period, row.organisation_id, row.user_id],
            set_={
                "success": row.success + new.success,
                "failure": row.failure + new.failure,
                **{name: getattr(row, name).bitwise_or(new[name]) for name in ACTIVITY_WORDS},
            },
        )
        await self.db.execute(statement)


class AnomalyRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add(self, anomaly: Anomaly) -> None:
        self.db.add(anomaly)
        await self.db.flush()


class LockoutRepository:
    """The failure counter on ``users``; every change is one conditional UPDATE, so it is atomic."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def reserve_attempt(self, user_id: uuid.UUID, now: datetime, threshold: int) -> bool:
        """Count an attempt before the password is checked; False when the account is locked.

        Counting first means parallel attempts cannot together exceed the threshold. An expired lock
        starts a fresh count.
        """
        lock_over = and_(User.locked_until.is_not(None), User.locked_until <= now)
        result = await self.db.execute(
            update(User)
            .where(
                User.id == user_id,
                or_(lock_over, and_(User.locked_until.is_(None), User.failed_login_count < threshold)),
            )
            .values(
                failed_login_count=case((lock_over, 1), else_=User.failed_login_count + 1),
                locked_until=None,
            )
            .returning(User.failed_login_count)
        )
        return result.scalar_one_or_none() is not None

    async def lock_if_exhausted(self, user_id: uuid.UUID, threshold: int, until: datetime) -> bool:
        """After a failed attempt: lock when the count has reached the threshold. True if locked now."""
        result = await self.db.execute(
            update(User)
            .where(User.id == user_id, User.failed_login_count >= threshold, User.locked_until.is_(None))
            .values(locked_until=until)
            .returning(User.id)
        )
        return result.scalar_one_or_none() is not None

    async def reset(self, user_id: uuid.UUID) -> None:
        await self.db.execute(
            update(User).where(User.id == user_id).values(failed_login_count=0, locked_until=None)
        )
