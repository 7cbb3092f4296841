"""SQL for users and their role assignments."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from garrison.authz.scope import OrgScope
from garrison.identity.schemas import UserSort
from garrison.kit.pagination import Order
from garrison.models import Session, User, UserRole, UserStatus
from garrison.models.base import table
from garrison.models.states import UserStatusFilter, user_status_condition

_ROLE_NAMES = select(table(UserRole).c.role).where(table(UserRole).c.user_id == bindparam("user_id"))


@dataclass(frozen=True, slots=True)
class UserFilters:
    q: str | None = None
    status: UserStatusFilter | None = None
    role: str | None = None
    department: str | None = None


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

    def _user_query(self, scope: OrgScope, filters: UserFilters, now: datetime) -> Select[User]:
        query = select(User).where(User.deleted_at.is_(None), scope.clause(User.organisation_id))
        if filters.q:
            pattern = (
                "%" + filters.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            query = query.where(
                or_(
                    User.username_key.like(pattern, escape="\\"),
                    User.email_key.like(pattern, escape="\\"),
                    func.lower(func.coalesce(User.full_name, "")).like(pattern, escape="\\"),
                )
            )
        if filters.status is not None:
            query = query.where(user_status_condition(filters.status, now))
        if filters.role:
            query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == filters.role)))
        if filters.department:
            query = query.where(func.lower(User.department) == filters.department.lower())
        return query

    async def list_users(
        self,
        scope: OrgScope,
        filters: UserFilters,
        sort: UserSort,
        order: Order,
        now: datetime,
        *,
        limit: int,
        offset: int,
    ) -> tuple[list[tuple[User, int]], int]:
        base = self._user_query(scope, filters, now)
        total = await self.db.scalar(select(func.count()).select_from(base.subquery())) or 0
        column = {
            UserSort.CREATED_AT: User.created_at,
            UserSort.LAST_LOGIN_AT: User.last_login_at,
            UserSort.USERNAME: User.username_key,
        }[sort]
        ordering = column.asc() if order is Order.ASC else column.desc()
        active_sessions = (
            select(func.count())
            .where(Session.user_id == User.id, Session.ended_at.is_(None), Session.expires_at > now)
            .correlate(User)
            .scalar_subquery()
        )
        rows = await self.db.execute(
            base.add_columns(active_sessions)
            .options(selectinload(User.roles))
            .order_by(ordering.nulls_last(), User.id)
            .limit(limit)
            .offset(offset)
        )
        return [(user, int(count)) for user, count in rows.all()], total

    async def get_live(self, user_id: uuid.UUID) -> User | None:
        return await self.db.scalar(
            select(User)
            .where(User.id == user_id, User.deleted_at.is_(None))
            .options(selectinload(User.roles))
        )

    async def get_live_in(self, scope: OrgScope, user_id: uuid.UUID) -> User | None:
        """The user (not deleted) if it belongs to ``scope``."""
        return await self.db.scalar(
            select(User)
            .where(User.id == user_id, User.deleted_at.is_(None), scope.clause(User.organisation_id))
            .options(selectinload(User.roles))
        )

    async def count_root_admins(self) -> int:
        query = (
            select(func.count(func.distinct(UserRole.user_id)))
            .join(User, User.id == UserRole.user_id)
            .where(UserRole.role == "root_admin", User.deleted_at.is_(None), User.status == UserStatus.ACTIVE)
        )
        return int(await self.db.scalar(query) or 0)

    async def clear_lockout(self, user_id: uuid.UUID) -> None:
        """Forget failed passwords and any lock (an administrator's unlock)."""
        await self.db.execute(
            update(User).where(User.id == user_id).values(failed_login_count=0, locked_until=None)
        )
