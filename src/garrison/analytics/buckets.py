"""Local-time buckets of UTC timestamps, in Python; SQLite calls them as SQL functions.

SQLite has no time zones: analytics call ``garrison_local`` and ``garrison_bucket`` to bucket stored UTC
timestamps in a zone's local time (PostgreSQL uses ``AT TIME ZONE`` instead).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from garrison.db import register_sqlite_function

BUCKET_FORMAT = "%Y-%m-%dT%H:%M"


def _local(value: str | None, tz: str) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC).astimezone(ZoneInfo(tz))


def local_time_text(value: str | None, tz: str, fmt: str) -> str | None:
    """strftime of a stored UTC timestamp in time zone ``tz`` (SQLite function ``garrison_local``)."""
    local = _local(value, tz)
    return None if local is None else local.strftime(fmt)


def truncate(local: datetime, unit: str) -> datetime:
    """The start of the hour, day, ISO week (Monday) or month holding ``local``."""
    if unit == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def local_bucket_text(value: str | None, unit: str, tz: str) -> str | None:
    """The local-time bucket of a stored UTC timestamp (SQLite function ``garrison_bucket``)."""
    local = _local(value, tz)
    return None if local is None else truncate(local, unit).strftime(BUCKET_FORMAT)


register_sqlite_function("garrison_local", 3, local_time_text)
register_sqlite_function("garrison_bucket", 3, local_bucket_text)
