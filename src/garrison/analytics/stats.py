"""Headline statistics for the overview: users by state, sessions, logins and open anomalies."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.analytics.schemas import Stats
from garrison.authz.deps import Admin
from garrison.models import Anomaly, LoginAttempt, Session, User, UserRole, UserStatus
from garrison.models.states import UserStatusFilter, user_status_condition
from garrison.security.schemas import AnomalyStatus


async def stats(db: AsyncSession, admin: Admin, organisation_id: uuid.UUID | None, now: datetime) -> Stats:
    scope = admin.scope.narrow(organisation_id)

    def users(*conditions: ColumnElement[bool]) -> Select[int]:
        return (
            select(func.count())
            .select_from(User)
            .where(User.deleted_at.is_(None), scope.clause(User.organisation_id), *conditions)
        )

    day_ago = now - timedelta(days=1)
    attempts = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.created_at >= day_ago, scope.clause(LoginAttempt.organisation_id))
    )
    sessions = (
        select(func.count())
        .select_from(Session)
        .where(Session.ended_at.is_(None), Session.expires_at > now, scope.clause(Session.organisation_id))
    )
    admins = (
        select(func.count(func.distinct(UserRole.user_id)))
        .join(User, User.id == UserRole.user_id)
        .where(
            UserRole.role.in_(("root_admin", "org_admin")),
            User.deleted_at.is_(None),
            scope.clause(User.organisation_id),
        )
    )
    anomalies = (
        select(func.count())
        .select_from(Anomaly)
        .where(Anomaly.status == AnomalyStatus.OPEN.value, scope.clause(Anomaly.organisation_id))
    )

    async def count(query: Select[int]) -> int:
        return int(await db.scalar(query) or 0)

    return Stats(
        users_total=await count(users()),
        users_active=await count(users(user_status_condition(UserStatusFilter.ACTIVE, now))),
        users_blocked=await count(users(User.status == UserStatus.BLOCKED)),
        users_locked=await count(users(user_status_condition(UserStatusFilter.LOCKED, now))),
        admins=await count(admins),
        active_sessions=await count(sessions),
        logins_24h=await count(attempts.where(LoginAttempt.success.is_(True))),
        failed_logins_24h=await count(attempts.where(LoginAttempt.success.is_(False))),
        open_anomalies=await count(anomalies),
    )
