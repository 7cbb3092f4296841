"""SQL for the admin API: filtered, sorted, paginated listings computed by the database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from garrison.admin.schemas import Order, SessionState, UserSort, UserStatusFilter
from garrison.models import AuditEvent, Session, User, UserRole, UserStatus

# Sessions that ended because time ran out count as expired, not revoked.
EXPIRY_REASONS = ("session_expired", "session_idle")


def user_status_condition(status: UserStatusFilter, now: datetime) -> ColumnElement[bool]:
    expired = and_(User.account_expires_at.is_not(None), User.account_expires_at <= now)
    locked = and_(User.locked_until.is_not(None), User.locked_until > now)
    active = User.status == UserStatus.ACTIVE
    if status is UserStatusFilter.BLOCKED:
        return User.status == UserStatus.BLOCKED
    if status is UserStatusFilter.EXPIRED:
        return and_(active, expired)
    if status is UserStatusFilter.LOCKED:
        return and_(active, not_(expired), locked)
    return and_(active, not_(expired), not_(locked))


def session_state(now: datetime, idle_cutoff: datetime) -> ColumnElement[str]:
    """active / expired / revoked, as one SQL expression used by filters, listings and counts."""
    return case(
        (
            Session.ended_at.is_not(None),
            case((Session.end_reason.in_(EXPIRY_REASONS), literal("expired")), else_=literal("revoked")),
        ),
        (or_(Session.expires_at <= now, Session.last_seen_at <= idle_cutoff), literal("expired")),
        else_=literal("active"),
    )


def audit_query(
    *,
    organisation_id: uuid.UUID | None,
    actor_id: str | None,
    action: str | None,
    target_id: str | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[AuditEvent]:
    query = select(AuditEvent)
    if organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == organisation_id)
    if actor_id:
        query = query.where(AuditEvent.actor_id == actor_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if target_id:
        query = query.where(AuditEvent.target_id == target_id)
    if outcome:
        query = query.where(AuditEvent.outcome == outcome)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id)


@dataclass(frozen=True, slots=True)
class UserFilters:
    q: str | None = None
    status: UserStatusFilter | None = None
    role: str | None = None
    department: str | None = None
    organisation_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class SessionFilters:
    user_id: uuid.UUID | None = None
    state: SessionState | None = None
    since: datetime | None = None
    until: datetime | None = None
    ip: str | None = None
    organisation_id: uuid.UUID | None = None


class AdminRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    # -- users --------------------------------------------------------------------------------

    def _user_query(self, filters: UserFilters, now: datetime) -> Select[User]:
        query = select(User).where(User.deleted_at.is_(None))
        if filters.organisation_id is not None:
            query = query.where(User.organisation_id == filters.organisation_id)
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
        self, filters: UserFilters, sort: UserSort, order: Order, now: datetime, *, limit: int, offset: int
    ) -> tuple[list[tuple[User, int]], int]:
        base = self._user_query(filters, now)
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

    async def get_user(self, user_id: uuid.UUID) -> User | None:
        return await self.db.scalar(
            select(User)
            .where(User.id == user_id, User.deleted_at.is_(None))
            .options(selectinload(User.roles))
        )

    async def count_root_admins(self) -> int:
        query = (
            select(func.count(func.distinct(UserRole.user_id)))
            .join(User, User.id == UserRole.user_id)
            .where(UserRole.role == "root_admin", User.deleted_at.is_(None), User.status == UserStatus.ACTIVE)
        )
        return int(await self.db.scalar(query) or 0)

    # -- sessions -----------------------------------------------------------------------------

    async def list_sessions(
        self, filters: SessionFilters, now: datetime, idle_cutoff: datetime, *, limit: int, offset: int
    ) -> tuple[list[tuple[Session, str, str]], int]:
        state = session_state(now, idle_cutoff)
        query = select(Session, User.username, state.label("state")).join(User, User.id == Session.user_id)
        if filters.organisation_id is not None:
            query = query.where(Session.organisation_id == filters.organisation_id)
        if filters.user_id is not None:
            query = query.where(Session.user_id == filters.user_id)
        if filters.state is not None:
            query = query.where(state == filters.state.value)
        if filters.since is not None:
            query = query.where(Session.created_at >= filters.since)
        if filters.until is not None:
            query = query.where(Session.created_at < filters.until)
        if filters.ip:
            query = query.where(Session.ip == filters.ip)
        total = await self.db.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.db.execute(
            query.order_by(Session.created_at.desc(), Session.id).limit(limit).offset(offset)
        )
        return [(session, username, label) for session, username, label in rows.all()], total

    async def get_session(self, session_id: uuid.UUID) -> Session | None:
        return await self.db.get(Session, session_id)

    # -- audit --------------------------------------------------------------------------------

    async def page(
        self, query: Select[AuditEvent], *, limit: int, offset: int
    ) -> tuple[list[AuditEvent], int]:
        total = await self.db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        rows = await self.db.scalars(query.limit(limit).offset(offset))
        return list(rows), total
