"""An administrator's view of one user: counts, session timeline, daily logins, anomalies."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.analytics import service as analytics
from garrison.analytics.schemas import DailyLogins, Interval, ProfileCounts, TimelineEntry, UserProfile
from garrison.authz.deps import Admin
from garrison.identity.account import user_out
from garrison.identity.admin_service import AdminService
from garrison.models import Anomaly, LoginAttempt, Session
from garrison.models.states import SessionState, session_state
from garrison.security.schemas import AnomalyOut

TIMELINE_LENGTH = 50


async def user_profile(
    db: AsyncSession,
    admin: Admin,
    service: AdminService,
    user_id: uuid.UUID,
    now: datetime,
    idle: timedelta,
    tz: str,
) -> UserProfile:
    user = await service.visible_user(db, admin, user_id)
    state = session_state(now, now - idle)
    session_counts = (
        await db.execute(
            select(func.count(), func.sum(case((state == "active", 1), else_=0))).where(
                Session.user_id == user.id, admin.scope.clause(Session.organisation_id)
            )
        )
    ).one()
    login_counts = (
        await db.execute(
            select(
                func.sum(case((LoginAttempt.success.is_(True), 1), else_=0)),
                func.sum(case((LoginAttempt.success.is_(False), 1), else_=0)),
            ).where(LoginAttempt.user_id == user.id, admin.scope.clause(LoginAttempt.organisation_id))
        )
    ).one()
    rows = (
        await db.execute(
            select(Session, state.label("state"))
            .where(Session.user_id == user.id, admin.scope.clause(Session.organisation_id))
            .order_by(Session.created_at.desc())
            .limit(TIMELINE_LENGTH)
        )
    ).all()
    timeline = [
        TimelineEntry(
            session_id=session.id,
            login_at=session.created_at,
            logout_at=session.ended_at,
            duration_seconds=int((session.ended_at - session.created_at).total_seconds())
            if session.ended_at
            else None,
            ip=session.ip,
            device=session.device_label,
            end_reason=session.end_reason,
            state=SessionState(label),
        )
        for session, label in rows
    ]
    series = await analytics.logins(
        # The end is exclusive: include what happened up to this very moment.
        db,
        admin,
        Interval.DAY,
        now - timedelta(days=30),
        now + timedelta(seconds=1),
        tz,
        user_id=user.id,
    )
    anomalies = await db.scalars(
        select(Anomaly)
        .where(Anomaly.user_id == user.id, admin.scope.clause(Anomaly.organisation_id))
        .order_by(Anomaly.created_at.desc())
        .limit(TIMELINE_LENGTH)
    )
    return UserProfile(
        user=user_out(user, now),
        counts=ProfileCounts(
            sessions_total=int(session_counts[0] or 0),
            sessions_active=int(session_counts[1] or 0),
            logins_success=int(login_counts[0] or 0),
            logins_failed=int(login_counts[1] or 0),
        ),
        timeline=timeline,
        daily_logins=[
            DailyLogins(date=bucket.start.date().isoformat(), success=bucket.success, failure=bucket.failure)
            for bucket in series.buckets
        ],
        anomalies=[AnomalyOut.model_validate(a, from_attributes=True) for a in anomalies],
    )
