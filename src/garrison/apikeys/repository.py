"""SQL for API keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.apikeys.schemas import ApiKeyStatus
from garrison.authz.scope import OrgScope
from garrison.models import ApiKey, User


@dataclass(frozen=True, slots=True)
class KeyFilters:
    user_id: uuid.UUID | None = None
    status: ApiKeyStatus | None = None


def status_condition(status: ApiKeyStatus, now: datetime) -> ColumnElement[bool]:
    if status is ApiKeyStatus.REVOKED:
        return ApiKey.revoked_at.is_not(None)
    expired = and_(ApiKey.expires_at.is_not(None), ApiKey.expires_at <= now)
    if status is ApiKeyStatus.EXPIRED:
        return and_(ApiKey.revoked_at.is_(None), expired)
    return and_(ApiKey.revoked_at.is_(None), or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now))


class ApiKeyRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add(self, key: ApiKey) -> ApiKey:
        self.db.add(key)
        await self.db.flush()
        return key

    async def get_in(self, scope: OrgScope, key_id: uuid.UUID) -> ApiKey | None:
        """The key if it belongs to ``scope``."""
        return await self.db.scalar(
            select(ApiKey).where(ApiKey.id == key_id, scope.clause(ApiKey.organisation_id))
        )

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        result = await self.db.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))
        return result.scalar_one_or_none()

    async def usernames(self, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not user_ids:
            return {}
        rows = await self.db.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
        return {row.id: row.username for row in rows}

    async def list(
        self, scope: OrgScope, filters: KeyFilters, now: datetime, *, limit: int, offset: int
    ) -> tuple[list[ApiKey], int]:
        conditions: list[ColumnElement[bool]] = [scope.clause(ApiKey.organisation_id)]
        if filters.user_id is not None:
            conditions.append(ApiKey.user_id == filters.user_id)
        if filters.status is not None:
            conditions.append(status_condition(filters.status, now))
        total = await self.db.scalar(select(func.count()).select_from(ApiKey).where(*conditions))
        rows = await self.db.execute(
            select(ApiKey)
            .where(*conditions)
            .order_by(ApiKey.created_at.desc(), ApiKey.id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows.scalars()), total or 0

    async def touch(self, key_id: uuid.UUID, now: datetime, stale_before: datetime) -> None:
        """Record use, at most once per interval: a polling agent must not write on every request."""
        await self.db.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < stale_before),
            )
            .values(last_used_at=now)
        )
