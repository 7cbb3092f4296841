"""Login analytics: buckets, heatmap and session states, aggregated by the database.

Daily, weekly and monthly series and the heatmap read the login rollups (``security.rollups``):
counts are sums of quarter hours grouped by local day or hour, with the zone's UTC offsets (from
``zoneinfo``, DST included) applied in SQL; distinct users are the users' activity rows whose bits
meet the bucket. A bucket cut by the ends of the range is counted over the covering time index
instead, and the minutes at either end that do not fill a quarter hour are read from the attempts.

Hourly series, a user's own series, and zones whose offsets are not whole quarter hours (only
historical local mean times) aggregate the attempts directly: PostgreSQL converts time zones itself
(``AT TIME ZONE``); SQLite calls the ``garrison_bucket`` and ``garrison_local`` functions Garrison
registers on its connections. Both ways give the same numbers. Empty buckets are filled in afterwards
so charts get a continuous series.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.analytics.buckets import BUCKET_FORMAT, truncate
from garrison.analytics.repository import (
    LOCAL_EPOCH,
    Counts,
    Range,
    active_in_periods,
    attempt_buckets,
    attempt_heatmap,
    distinct_in_ranges,
    quarter_offsets,
    rollup_days,
    rollup_heatmap,
)
from garrison.analytics.schemas import Bucket, Heatmap, Interval, LoginSeries, SessionStates
from garrison.authz.deps import Admin
from garrison.authz.scope import OrgScope
from garrison.errors import ValidationFailed
from garrison.models import Session
from garrison.models.rollups import (
    EPOCH,
    QUARTER,
    QUARTERS_PER_DAY,
    ActivityMasks,
    Kind,
    activity_masks,
    day_number,
    quarter_of,
)
from garrison.models.states import session_state

MAX_BUCKETS = 2000


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"Unknown time zone {name!r}; use an IANA name such as Europe/Paris."
        ) from None


def _next(start: datetime, unit: Interval) -> datetime:
    if unit is Interval.HOUR:
        return start + timedelta(hours=1)
    if unit is Interval.DAY:
        return (start + timedelta(days=1, hours=3)).replace(hour=0)  # safe across DST changes
    if unit is Interval.WEEK:
        return (start + timedelta(days=7, hours=3)).replace(hour=0)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month, day=1)


def _bucket_starts(start: datetime, end: datetime, unit: Interval, local_zone: ZoneInfo) -> list[datetime]:
    """Local starts of every bucket meeting [start, end), and of the bucket after the last."""
    starts: list[datetime] = []
    cursor = truncate(start.astimezone(local_zone), unit.value)
    while cursor < end.astimezone(local_zone):
        if len(starts) >= MAX_BUCKETS:
            raise ValidationFailed(
                f"That range holds more than {MAX_BUCKETS} {unit.value} buckets; narrow it."
            )
        starts.append(cursor)
        cursor = _next(cursor, unit)
    return [*starts, cursor]


def _contiguous(steps: list[tuple[int, int]], boundaries: Sequence[datetime]) -> bool:
    """Whether every bucket is one stretch of time: no bucket boundary falls inside wall-clock time
    that a change to a smaller offset repeats (a clock going back across midnight, say)."""
    local = [(boundary.replace(tzinfo=None) - LOCAL_EPOCH) // QUARTER for boundary in boundaries]
    for (_, before), (at, after) in pairwise(steps):
        if after < before and any(at + after < quarter < at + before for quarter in local):
            return False
    return True


async def _rollup_buckets(
    db: AsyncSession,
    unit: Interval,
    local_zone: ZoneInfo,
    start: datetime,
    end: datetime,
    starts: list[datetime],
    scope: OrgScope,
) -> Counts | None:
    """Counts per bucket from the rollups; None when the zone or range needs the attempts instead."""
    low, high = -(-(start - EPOCH) // QUARTER), quarter_of(end)  # whole quarters inside the range
    steps = quarter_offsets(local_zone, quarter_of(start), quarter_of(end) + 1)
    if unit is Interval.HOUR or high <= low or low < QUARTERS_PER_DAY or steps is None:
        return None
    if not _contiguous(steps, starts):
        return None
    found: Counts = {}
    for day, ok, failed in await rollup_days(db, steps, low, high, scope):
        key = truncate(LOCAL_EPOCH + timedelta(days=day), unit.value).strftime(BUCKET_FORMAT)
        counts = found.setdefault(key, [0, 0, 0])
        counts[0] += ok
        counts[1] += failed
    edges = [(start, EPOCH + low * QUARTER), (EPOCH + high * QUARTER, end)]
    edges = [(a, b) for a, b in edges if a < b]
    if edges:
        for key, (ok, failed, _) in (await attempt_buckets(db, unit, str(local_zone), edges, scope)).items():
            counts = found.setdefault(key, [0, 0, 0])
            counts[0] += ok
            counts[1] += failed

    # Distinct users: the activity rows where they answer, else the time index.
    ranges = [(max(a.astimezone(UTC), start), min(b.astimezone(UTC), end)) for a, b in pairwise(starts)]
    keys = [cursor.strftime(BUCKET_FORMAT) for cursor in starts[:-1]]
    kind = {Interval.DAY: Kind.DAY, Interval.WEEK: Kind.WEEK, Interval.MONTH: Kind.MONTH}.get(unit)
    from_rows: list[tuple[int, int, ActivityMasks]] = []
    from_index: list[tuple[int, Range]] = []
    for index, (cursor, (a, b)) in enumerate(zip(starts, ranges, strict=False)):
        period = (day_number(cursor.date()), day_number(_next(cursor, unit).date()))
        aligned = not (a - EPOCH) % QUARTER and not (b - EPOCH) % QUARTER
        masks = activity_masks(period, quarter_of(a), quarter_of(b)) if aligned else None
        if kind is not None and masks is not None:
            from_rows.append((index, period[0], masks))
        else:
            from_index.append((index, (a, b)))
    counted = await distinct_in_ranges(db, from_index, scope)
    if kind is not None:
        counted |= await active_in_periods(db, kind, from_rows, scope)
    users = [counted.get(index, 0) for index in range(len(keys))]
    for key, count in zip(keys, users, strict=True):
        if count:
            found.setdefault(key, [0, 0, 0])[2] = count
    return found


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
    starts = _bucket_starts(start, end, unit, local_zone)
    scope = admin.scope.narrow(organisation_id)
    found = None
    if user_id is None:
        found = await _rollup_buckets(db, unit, local_zone, start, end, starts, scope)
    if found is None:
        found = await attempt_buckets(db, unit, tz, [(start, end)], scope, user_id)
    buckets = []
    for cursor in starts[:-1]:
        success, failure, users = found.get(cursor.strftime(BUCKET_FORMAT), (0, 0, 0))
        buckets.append(Bucket(start=cursor, success=success, failure=failure, distinct_users=users))
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
    local_zone = zone(tz)
    scope = admin.scope.narrow(organisation_id)
    cells = await rollup_heatmap(db, local_zone, start, end, scope)
    if cells is None:
        cells = await attempt_heatmap(db, tz, [(start, end)], scope)
    counts = [[0] * 24 for _ in range(7)]
    for weekday, hour, count in cells:
        counts[weekday][hour] += count
    return Heatmap(tz=tz, weekdays=WEEKDAYS, hours=list(range(24)), counts=counts)


async def session_states(
    db: AsyncSession, admin: Admin, now: datetime, idle: timedelta, organisation_id: uuid.UUID | None = None
) -> SessionStates:
    state = session_state(now, now - idle).label("state")
    query = select(state, func.count()).group_by(state)
    query = query.where(admin.scope.narrow(organisation_id).clause(Session.organisation_id))
    counts = {str(name): int(count) for name, count in (await db.execute(query)).all()}
    return SessionStates(
        active=counts.get("active", 0), expired=counts.get("expired", 0), revoked=counts.get("revoked", 0)
    )
