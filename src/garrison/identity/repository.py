"""SQL for users and their role assignments."""

from __future__ import annotations

import unicodedata
import uuid

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from garrison.models import User, UserRole


class UserRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, user_id: uuid.UUID) -> User | None:
        result = await self.db.execute(
            select(User).where(User.id == user_id).options(selectinload(User.roles))
        )
        return result.scalar_one_or_none()

    async def get_by_username_key(self, username_key: str) -> User | None:
        result = await self.db.execute(
            select(User).where(User.username_key == username_key).options(selectinload(User.roles))
        )
        return result.scalar_one_or_none()

    async def get_for_login(self, login: str) -> User | None:
        """The user a login name designates: a username, or an email address (both case-insensitive)."""
        key = unicodedata.normalize("NFKC", login.strip()).casefold()
        column = User.email_key if "@" in key else User.username_key
        return await self.db.scalar(select(User).where(column == key))

    async def taken(self, username_key: str, email_key: str) -> bool:
        query = select(exists().where(or_(User.username_key == username_key, User.email_key == email_key)))
        return bool(await self.db.scalar(query))

    async def any_with_role(self, role: str) -> bool:
        return bool(await self.db.scalar(select(exists().where(UserRole.role == role))))

    async def add(self, user: User) -> User:
        self.db.add(user)
        await self.db.flush()
        return user
