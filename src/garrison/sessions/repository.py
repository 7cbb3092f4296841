"""SQL for sessions and refresh tokens. Rotation and ending are single conditional UPDATEs: atomic."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.models import RefreshToken, Session, User, UserRole


class SessionRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get_with_user(self, session_id: uuid.UUID) -> tuple[Session, User, list[str]] | None:
        row = (
            await self.db.execute(
                select(Session, User).join(User, User.id == Session.user_id).where(Session.id == session_id)
            )
        ).first()
        if row is None:
            return None
        session, user = row
        roles = list(await self.db.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
        return session, user, roles

    async def get_for_user(self, session_id: uuid.UUID, user_id: uuid.UUID) -> Session | None:
        return await self.db.scalar(
            select(Session).where(Session.id == session_id, Session.user_id == user_id)
        )

    async def add(self, session: Session) -> Session:
        self.db.add(session)
        await self.db.flush()
        return session

    async def add_refresh_token(self, token: RefreshToken) -> None:
        self.db.add(token)
        await self.db.flush()

    async def claim_refresh_token(self, token_hash: str, now: datetime) -> uuid.UUID | None:
        """Mark an unused refresh token used; its session id, or None if unknown or already used.

        One UPDATE with the "unused" condition in its WHERE clause: of concurrent claims exactly one
        matches a row, on PostgreSQL (row lock, re-check after wait) and SQLite (one writer) alike.
        """
        result = await self.db.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == token_hash, RefreshToken.rotated_at.is_(None))
            .values(rotated_at=now)
            .returning(RefreshToken.session_id)
        )
        return result.scalar_one_or_none()

    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        return await self.db.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))

    async def end(self, session_ids: Sequence[uuid.UUID], now: datetime, reason: str) -> list[uuid.UUID]:
        """End the given sessions that are still active; the ids actually ended."""
        if not session_ids:
            return []
        result = await self.db.execute(
            update(Session)
            .where(Session.id.in_(session_ids), Session.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason)
            .returning(Session.id)
        )
        return list(result.scalars())

    async def active_ids(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        result = await self.db.scalars(
            select(Session.id).where(Session.user_id == user_id, Session.ended_at.is_(None))
        )
        return list(result)

    @staticmethod
    def _active(user_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
        return and_(Session.user_id == user_id, Session.ended_at.is_(None), Session.expires_at > now)

    async def count_active(self, user_id: uuid.UUID, now: datetime) -> int:
        return int(await self.db.scalar(select(func.count()).where(self._active(user_id, now))) or 0)

    async def oldest_active(self, user_id: uuid.UUID, now: datetime, count: int) -> list[uuid.UUID]:
        result = await self.db.scalars(
            select(Session.id).where(self._active(user_id, now)).order_by(Session.created_at).limit(count)
        )
        return list(result)

    async def active_elsewhere(
        self, user_id: uuid.UUID, now: datetime, ip: str | None, device: str | None, *, limit: int
    ) -> list[Session]:
        """Active sessions of the user from another address or device (at most ``limit``)."""
        different = or_(Session.ip.is_distinct_from(ip), Session.device_label.is_distinct_from(device))
        result = await self.db.scalars(
            select(Session)
            .where(self._active(user_id, now), different)
            .order_by(Session.created_at.desc())
            .limit(limit)
        )
        return list(result)

    async def list_for_user(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[list[Session], int]:
        total = await self.db.scalar(select(func.count()).where(Session.user_id == user_id)) or 0
        result = await self.db.scalars(
            select(Session)
            .where(Session.user_id == user_id)
            .order_by(Session.created_at.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(result), total
