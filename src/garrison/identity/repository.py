"""SQL for users and their role assignments."""

from __future__ import annotations

import unicodedata
import uuid

from sqlalchemy import bindparam, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from garrison.models import User, UserRole
from garrison.models.base import table

_ROLE_NAMES = select(table(UserRole).c.role).where(table(UserRole).c.user_id == bindparam("user_id"))


def login_key(login: str) -> tuple[str, str]:
    """The ``users`` column a login name is looked up in (username or email key) and its value."""
    key = unicodedata.normalize("NFKC", login.strip()).casefold()
    return ("email_key" if "@" in key else "username_key"), key


class UserRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, user_id: uuid.UUID) -> User | None:
        """The user with its roles, in one statement (a join: a user has few roles)."""
        result = await self.db.execute(select(User).where(User.id == user_id).options(joinedload(User.roles)))
        return result.unique().scalar_one_or_none()

    async def get_by_username_key(self, username_key: str) -> User | None:
        result = await self.db.execute(
            select(User).where(User.username_key == username_key).options(selectinload(User.roles))
        )
        return result.scalar_one_or_none()

    async def taken(self, username_key: str, email_key: str) -> bool:
        query = select(exists().where(or_(User.username_key == username_key, User.email_key == email_key)))
        return bool(await self.db.scalar(query))

    async def any_with_role(self, role: str) -> bool:
        return bool(await self.db.scalar(select(exists().where(UserRole.role == role))))

    async def add(self, user: User) -> User:
        self.db.add(user)
        await self.db.flush()
        return user

    async def role_names(self, user_id: uuid.UUID) -> tuple[str, ...]:
        """The user's roles, sorted (as access tokens carry them)."""
        result = await self.db.scalars(_ROLE_NAMES, {"user_id": user_id})
        return tuple(sorted(result))

    async def replace_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        """Store a re-encoded hash of the same password (a legacy or outdated hash, upgraded at login)."""
        await self.db.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))
