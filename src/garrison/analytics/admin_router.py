"""``/api/v1/admin/analytics`` (login trends, weekday x hour heatmap, session states), the headline
``/api/v1/admin/stats`` and a user's activity profile."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from garrison.analytics import profile
from garrison.analytics import service as analytics
from garrison.analytics.schemas import Heatmap, Interval, LoginSeries, SessionStates, Stats, UserProfile
from garrison.analytics.stats import stats as stats_of
from garrison.authz.deps import AnalyticsRead, UsersRead
from garrison.deps import AppClock, AppSettings, DbSession
from garrison.identity.deps import AdminServices
from garrison.kit.schemas import AwareDatetime

router = APIRouter(prefix="/api/v1/admin/analytics", tags=["admin: analytics"])
overview_router = APIRouter(prefix="/api/v1/admin")

From = Annotated[AwareDatetime | None, Query(alias="from", description="Default: 30 days before 'to'")]
To = Annotated[AwareDatetime | None, Query(description="Default: now")]
Tz = Annotated[str, Query(max_length=64, description="IANA time zone for buckets")]


def _range(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    end = end or now + timedelta(seconds=1)  # exclusive end: include this very moment
    return start or end - timedelta(days=30), end


@router.get("/logins", response_model=LoginSeries)
async def logins(
    admin: AnalyticsRead,
    db: DbSession,
    clock: AppClock,
    interval: Interval = Interval.DAY,
    from_: From = None,
    to: To = None,
    tz: Tz = "UTC",
    org_id: uuid.UUID | None = None,
) -> LoginSeries:
    """Successful and failed logins and distinct users per bucket; empty buckets are zeros."""
    start, end = _range(from_, to, clock.now())
    return await analytics.logins(db, admin, interval, start, end, tz, org_id)


@router.get("/heatmap", response_model=Heatmap)
async def heatmap(
    admin: AnalyticsRead,
    db: DbSession,
    clock: AppClock,
    from_: From = None,
    to: To = None,
    tz: Tz = "UTC",
    org_id: uuid.UUID | None = None,
) -> Heatmap:
    """Successful logins by local weekday (Monday first) and hour."""
    start, end = _range(from_, to, clock.now())
    return await analytics.heatmap(db, admin, start, end, tz, org_id)


@router.get("/sessions", response_model=SessionStates)
async def sessions(
    admin: AnalyticsRead,
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    org_id: uuid.UUID | None = None,
) -> SessionStates:
    """Sessions by state, with the definitions of the sessions listing."""
    idle = timedelta(seconds=settings.session_idle_timeout)
    return await analytics.session_states(db, admin, clock.now(), idle, org_id)


@overview_router.get("/stats", response_model=Stats, tags=["admin: anomalies and statistics"])
async def stats(
    admin: AnalyticsRead, db: DbSession, clock: AppClock, org_id: uuid.UUID | None = None
) -> Stats:
    """Headline figures: users by status, admins, active sessions, last-24-hour logins, open anomalies."""
    return await stats_of(db, admin, org_id, clock.now())


@overview_router.get("/users/{user_id}/profile", response_model=UserProfile, tags=["admin: users"])
async def user_profile(
    user_id: uuid.UUID,
    admin: UsersRead,
    db: DbSession,
    service: AdminServices,
    clock: AppClock,
    settings: AppSettings,
    tz: Annotated[str, Query(max_length=64)] = "UTC",
) -> UserProfile:
    """The user with counts, their latest sessions as a timeline, daily logins (30 days), anomalies."""
    idle = timedelta(seconds=settings.session_idle_timeout)
    return await profile.user_profile(db, admin, service, user_id, clock.now(), idle, tz)
