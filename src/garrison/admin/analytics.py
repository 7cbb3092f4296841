"""Login analytics: buckets, heatmap and session states, aggregated by the database.

PostgreSQL converts time zones itself (``AT TIME ZONE``); SQLite calls the ``garrison_bucket`` and
``garrison_local`` functions Garrison registers on its connections. Empty buckets are filled in
afterwards so charts get a continuous series.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.admin.repository import session_state
from garrison.authz.deps import Admin
from garrison.db import BUCKET_FORMAT, truncate
from garrison.errors import ValidationFailed
from garrison.models import LoginAttempt, Session

MAX_BUCKETS = 2000


class Interval(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Bucket(BaseModel):
    start: datetime
    success: int
    failure: int
    distinct_users: int


class LoginSeries(BaseModel):
    interval: Interval
    tz: str
    buckets: list[Bucket]


class Heatmap(BaseModel):
    tz: str
    weekdays: list[str]
    hours: list[int]
    counts: list[list[int]]  # [weekday Monday..Sunday][hour 0..23]


class SessionStates(BaseModel):
    active: int
    expired: int
    revoked: int


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"Unknown time zone {name!r}; use an IANA name such as Europe/Paris."
        ) from None


def _bucket_expr(db: AsyncSession, unit: Interval, tz: str) -> ColumnElement[str]:
    if db.get_bind().dialect.name == "postgresql":
        local = func.timezone(tz, LoginAttempt.created_at)
        return func.to_char(func.date_trunc(unit.value, local), 'YYYY-MM-DD"T"HH24:MI')
    return func.garrison_bucket(LoginAttempt.created_at, unit.value, tz)


def _next(start: datetime, unit: Interval) -> datetime:
    if unit is Interval.HOUR:
        return start + timedelta(hours=1)
    if unit is Interval.DAY:
        return (start + timedelta(days=1, hours=3)).replace(hour=0)  # safe across DST changes
    if unit is Interval.WEEK:
        return (start + timedelta(days=7, hours=3)).replace(hour=0)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month, day=1)


def _scope(admin: Admin, organisation_id: uuid.UUID | None) -> uuid.UUID | None:
    return admin.organisation_filter(organisation_id)


async def logins(
    db: AsyncSession,
    admin: Admin,
    unit: Interval,
    start: datetime,
    end: datetime,
    tz: str,
    organisation_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> LoginSeries:
    local_zone = zone(tz)
    if end <= start:
        raise ValidationFailed("'to' must be after 'from'.")
    bucket = _bucket_expr(db, unit, tz).label("bucket")
    success = func.sum(case((LoginAttempt.success.is_(True), 1), else_=0))
    failure = func.sum(case((LoginAttempt.success.is_(False), 1), else_=0))
    users = func.count(
        func.distinct(case((LoginAttempt.success.is_(True), LoginAttempt.user_id), else_=literal(None)))
    )
    query = (
        select(bucket, success, failure, users)
        .where(LoginAttempt.created_at >= start, LoginAttempt.created_at < end)
        .group_by(bucket)
    )
    org = _scope(admin, organisation_id)
    if org is not None:
        query = query.where(LoginAttempt.organisation_id == org)
    if user_id is not None:
        query = query.where(LoginAttempt.user_id == user_id)
    found = {row[0]: row for row in (await db.execute(query)).all()}

    buckets: list[Bucket] = []
    cursor = truncate(start.astimezone(local_zone), unit.value)
    while cursor < end.astimezone(local_zone):
        if len(buckets) >= MAX_BUCKETS:
            raise ValidationFailed(
                f"That range holds more than {MAX_BUCKETS} {unit.value} buckets; narrow it."
            )
        key = cursor.strftime(BUCKET_FORMAT)
        row = found.get(key)
        buckets.append(
            Bucket(
                start=cursor,
                success=int(row[1] or 0) if row else 0,
                failure=int(row[2] or 0) if row else 0,
                distinct_users=int(row[3] or 0) if row else 0,
            )
        )
        cursor = _next(cursor, unit)
    return LoginSeries(interval=unit, tz=tz, buckets=buckets)


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


async def heatmap(
    db: AsyncSession,
    admin: Admin,
    start: datetime,
    end: datetime,
    tz: str,
    organisation_id: uuid.UUID | None = None,
) -> Heatmap:
    zone(tz)
    if db.get_bind().dialect.name == "postgresql":
        slot = func.to_char(func.timezone(tz, LoginAttempt.created_at), "ID|HH24")
    else:
        slot = func.garrison_local(LoginAttempt.created_at, tz, "%u|%H")
    labelled = slot.label("slot")
    query = (
        select(labelled, func.count())
        .where(
            LoginAttempt.success.is_(True), LoginAttempt.created_at >= start, LoginAttempt.created_at < end
        )
        .group_by(labelled)
    )
    org = _scope(admin, organisation_id)
    if org is not None:
        query = query.where(LoginAttempt.organisation_id == org)
    counts = [[0] * 24 for _ in range(7)]
    for key, count in (await db.execute(query)).all():
        weekday, hour = (int(part) for part in str(key).split("|"))
        counts[weekday - 1][hour] = int(count)
    return Heatmap(tz=tz, weekdays=WEEKDAYS, hours=list(range(24)), counts=counts)


async def session_states(
    db: AsyncSession, admin: Admin, now: datetime, idle: timedelta, organisation_id: uuid.UUID | None = None
) -> SessionStates:
    state = session_state(now, now - idle).label("state")
    query = select(state, func.count()).group_by(state)
    org = _scope(admin, organisation_id)
    if org is not None:
        query = query.where(Session.organisation_id == org)
    counts = {str(name): int(count) for name, count in (await db.execute(query)).all()}
    return SessionStates(
        active=counts.get("active", 0), expired=counts.get("expired", 0), revoked=counts.get("revoked", 0)
    )
