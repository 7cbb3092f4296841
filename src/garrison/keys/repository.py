"""SQL for signing keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.models import SigningKey


class SigningKeyRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def published(self, now: datetime) -> list[SigningKey]:
        """Keys whose tokens may still be in flight, newest first."""
        result = await self.db.execute(
            select(SigningKey)
            .where(or_(SigningKey.expires_at.is_(None), SigningKey.expires_at > now))
            .order_by(SigningKey.created_at.desc())
        )
        return list(result.scalars())

    async def retire_active(self, now: datetime, expires_at: datetime) -> None:
        await self.db.execute(
            update(SigningKey)
            .where(SigningKey.retired_at.is_(None))
            .values(retired_at=now, expires_at=expires_at)
        )

    async def add(self, key: SigningKey) -> SigningKey:
        self.db.add(key)
        await self.db.flush()
        return key
