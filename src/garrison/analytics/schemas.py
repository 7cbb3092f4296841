"""Shapes of the statistics and a user's activity profile."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from garrison.identity.schemas import UserOut
from garrison.models.states import SessionState
from garrison.security.schemas import AnomalyOut


class Stats(BaseModel):
    users_total: int
    users_active: int
    users_blocked: int
    users_locked: int
    admins: int
    active_sessions: int
    logins_24h: int
    failed_logins_24h: int
    open_anomalies: int


class ProfileCounts(BaseModel):
    sessions_total: int
    sessions_active: int
    logins_success: int
    logins_failed: int


class TimelineEntry(BaseModel):
    session_id: uuid.UUID
    login_at: datetime
    logout_at: datetime | None
    duration_seconds: int | None
    ip: str | None
    device: str | None
    end_reason: str | None
    state: SessionState


class DailyLogins(BaseModel):
    date: str
    success: int
    failure: int


class UserProfile(BaseModel):
    user: UserOut
    counts: ProfileCounts
    timeline: list[TimelineEntry]
    daily_logins: list[DailyLogins]
    anomalies: list[AnomalyOut]


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
