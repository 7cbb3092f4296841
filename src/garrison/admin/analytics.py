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
from enum import StrEnum
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    BindParameter,
    Boolean,
    ColumnElement,
    Integer,
    String,
    Uuid,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from garrison.admin.repository import session_state
from garrison.authz.deps import Admin
from garrison.db import BUCKET_FORMAT, truncate
from garrison.errors import ValidationFailed
from garrison.models import LoginAttempt, LoginRollup, Session
from garrison.models.base import UTCDateTime
from garrison.models.security import ACTIVITY_WORDS
from garrison.security.rollups import (
    EPOCH,
    QUARTER,
    QUARTERS_PER_DAY,
    ActivityMasks,
    Kind,
    activity_masks,
    day_number,
    quarter_of,
    to_words,
)

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


Range = tuple[datetime, datetime]
Counts = dict[str, list[int]]  # bucket key -> [success, failure, distinct users]
LOCAL_EPOCH = EPOCH.replace(tzinfo=None)
OFFSET_PROBE = 6 * 3600  # seconds; no zone changes its offset twice within this
QUARTER_SECONDS = int(QUARTER.total_seconds())


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


def _in_ranges(ranges: Sequence[Range]) -> ColumnElement[bool]:
    return or_(
        *(and_(LoginAttempt.created_at >= low, LoginAttempt.created_at < high) for low, high in ranges)
    )


async def _attempt_buckets(
    db: AsyncSession,
    unit: Interval,
    tz: str,
    ranges: Sequence[Range],
    organisation_id: uuid.UUID | None,
    user_id: uuid.UUID | None = None,
) -> Counts:
    """Counts per local bucket straight from the attempts in ``ranges``."""
    bucket = _bucket_expr(db, unit, tz).label("bucket")
    success = func.sum(case((LoginAttempt.success.is_(True), 1), else_=0))
    failure = func.sum(case((LoginAttempt.success.is_(False), 1), else_=0))
    users = func.count(
        func.distinct(case((LoginAttempt.success.is_(True), LoginAttempt.user_id), else_=literal(None)))
    )
    query = select(bucket, success, failure, users).where(_in_ranges(ranges)).group_by(bucket)
    if organisation_id is not None:
        query = query.where(LoginAttempt.organisation_id == organisation_id)
    if user_id is not None:
        query = query.where(LoginAttempt.user_id == user_id)
    return {
        str(key): [int(ok or 0), int(failed or 0), int(distinct_users or 0)]
        for key, ok, failed, distinct_users in (await db.execute(query)).all()
    }


def _utc_offset(zone: ZoneInfo, at: datetime) -> timedelta:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _quarter_offsets(zone: ZoneInfo, low: int, high: int) -> list[tuple[int, int]] | None:
    """The zone's UTC offset over quarters [low, high) as (first quarter, offset in quarters) steps;
    None if an offset or a change of offset is not on a quarter hour."""

    def offset(second: int) -> timedelta:
        return _utc_offset(zone, EPOCH + timedelta(seconds=second))

    seconds, finish = low * QUARTER_SECONDS, high * QUARTER_SECONDS
    current = offset(seconds)
    steps = [(seconds, current)]
    while seconds < finish:
        ahead = min(seconds + OFFSET_PROBE, finish)
        if offset(ahead) == current:
            seconds = ahead
            continue
        before, after = seconds, ahead  # the offset changes in (before, after]: find the second
        while after - before > 1:
            middle = (before + after) // 2
            before, after = (middle, after) if offset(middle) == current else (before, middle)
        current = offset(after)
        steps.append((after, current))
        seconds = after
    quarters = []
    for second, step_offset in steps:
        if second % QUARTER_SECONDS or step_offset % QUARTER:
            return None
        quarters.append((second // QUARTER_SECONDS, step_offset // QUARTER))
    return quarters


def _local_quarter(steps: list[tuple[int, int]]) -> ColumnElement[int]:
    """A rollup row's quarter in local wall-clock time."""
    period = LoginRollup.period
    if len(steps) == 1:
        return period + steps[0][1]
    changes = [(period < steps[i + 1][0], steps[i][1]) for i in range(len(steps) - 1)]
    return period + case(*changes, else_=steps[-1][1])


def _contiguous(steps: list[tuple[int, int]], boundaries: Sequence[datetime]) -> bool:
    """Whether every bucket is one stretch of time: no bucket boundary falls inside wall-clock time
    that a change to a smaller offset repeats (a clock going back across midnight, say)."""
    local = [(boundary.replace(tzinfo=None) - LOCAL_EPOCH) // QUARTER for boundary in boundaries]
    for (_, before), (at, after) in pairwise(steps):
        if after < before and any(at + after < quarter < at + before for quarter in local):
            return False
    return True


async def _rollup_days(
    db: AsyncSession, steps: list[tuple[int, int]], low: int, high: int, organisation_id: uuid.UUID | None
) -> list[tuple[int, int, int]]:
    """(local day number, successes, failures) over quarters [low, high)."""
    day = (_local_quarter(steps) // QUARTERS_PER_DAY).label("day")
    query = (
        select(day, func.sum(LoginRollup.success), func.sum(LoginRollup.failure))
        .where(LoginRollup.kind == Kind.QUARTER, LoginRollup.period >= low, LoginRollup.period < high)
        .group_by(day)
    )
    if organisation_id is not None:
        query = query.where(LoginRollup.organisation_id == organisation_id)
    return [(int(d), int(ok or 0), int(ko or 0)) for d, ok, ko in (await db.execute(query)).all()]


def _values(
    db: AsyncSession, name: str, columns: Sequence[tuple[str, TypeEngine[Any]]], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[BindParameter[Any]]]:
    """``name(columns) AS (VALUES ...)`` for a WITH clause, as text: SQLAlchemy would compile a VALUES
    construct of a few hundred rows afresh on every call, at a cost of its own."""
    postgres = db.get_bind().dialect.name == "postgresql"
    casts = [
        "bigint"
        if isinstance(type_, BigInteger)
        else "integer"
        if isinstance(type_, Integer)
        else ("timestamptz" if postgres else None)
        for _, type_ in columns
    ]
    params: list[BindParameter[Any]] = []
    tuples = []
    for number, row in enumerate(rows):
        cells = []
        for (column, type_), cast, value in zip(columns, casts, row, strict=True):
            key = f"{name}_{column}_{number}"
            params.append(bindparam(key, value, type_=type_))
            cells.append(f"CAST(:{key} AS {cast})" if cast else f":{key}")
        tuples.append(f"({', '.join(cells)})")
    names = ", ".join(column for column, _ in columns)
    return f"{name}({names}) AS (VALUES {', '.join(tuples)})", params


async def _no_jit(db: AsyncSession) -> None:
    if db.get_bind().dialect.name == "postgresql":
        # A few hundred cheap index scans add up to a cost that would have PostgreSQL JIT-compile the
        # query, which takes longer than running it.
        await db.execute(text("SET LOCAL jit = off"))


def _organisation_clause(
    alias: str, organisation_id: uuid.UUID | None
) -> tuple[str, list[BindParameter[Any]]]:
    if organisation_id is None:
        return "", []
    return f" AND {alias}.organisation_id = :organisation", [
        bindparam("organisation", organisation_id, type_=Uuid())
    ]


async def _distinct_in_ranges(
    db: AsyncSession, ranges: Sequence[tuple[int, Range]], organisation_id: uuid.UUID | None
) -> dict[int, int]:
    """Distinct users with a successful login per (bucket, [low, high)): one range scan of the
    covering time index each."""
    if not ranges:
        return {}
    columns: list[tuple[str, TypeEngine[Any]]] = [
        ("i", Integer()),
        ("low", UTCDateTime()),
        ("high", UTCDateTime()),
    ]
    wanted, params = _values(db, "wanted", columns, [(index, low, high) for index, (low, high) in ranges])
    scope, scope_params = _organisation_clause("a", organisation_id)
    query = text(
        f"WITH {wanted} "  # noqa: S608 (names are constants; every value is bound)
        "SELECT wanted.i, (SELECT count(DISTINCT a.user_id) FROM login_attempts AS a"
        " WHERE a.success = :yes AND a.created_at >= wanted.low AND a.created_at < wanted.high"
        f"{scope}) FROM wanted"
    ).bindparams(*params, *scope_params, bindparam("yes", True, type_=Boolean()))
    await _no_jit(db)
    return {int(index): int(count or 0) for index, count in (await db.execute(query)).all()}


async def _active_in_periods(
    db: AsyncSession,
    kind: Kind,
    periods: Sequence[tuple[int, int, ActivityMasks]],
    organisation_id: uuid.UUID | None,
) -> dict[int, int]:
    """Users active per (bucket, period start, masks): the period's activity rows, one per user, with a
    bit in the bucket's quarters."""
    if not periods:
        return {}
    # Buckets share a few sets of masks (they change with DST and the length of a month).
    mask_ids: dict[ActivityMasks, int] = {}
    for _, _, masks in periods:
        mask_ids.setdefault(masks, len(mask_ids))
    mask_columns: list[tuple[str, TypeEngine[Any]]] = [("m", Integer())]
    mask_columns += [(name, BigInteger()) for name in ACTIVITY_WORDS]
    mask_table, mask_params = _values(
        db,
        "masks",
        mask_columns,
        [
            (number, *to_words(masks.head, 3), *to_words(masks.days, 1), *to_words(masks.tail, 3))
            for masks, number in mask_ids.items()
        ],
    )
    columns: list[tuple[str, TypeEngine[Any]]] = [("i", Integer()), ("period", Integer()), ("m", Integer())]
    wanted, params = _values(
        db, "wanted", columns, [(index, period, mask_ids[masks]) for index, period, masks in periods]
    )
    scope, scope_params = _organisation_clause("r", organisation_id)
    hits = " OR ".join(f"(r.{name} & masks.{name}) <> 0" for name in ACTIVITY_WORDS)
    query = text(
        f"WITH {mask_table}, {wanted} "  # noqa: S608 (names are constants; every value is bound)
        "SELECT wanted.i, (SELECT count(*) FROM login_rollups AS r"
        f" WHERE r.kind = :kind AND r.period = wanted.period{scope} AND ({hits}))"
        " FROM wanted JOIN masks ON masks.m = wanted.m"
    ).bindparams(*mask_params, *params, *scope_params, bindparam("kind", str(kind), type_=String()))
    await _no_jit(db)
    return {int(index): int(count or 0) for index, count in (await db.execute(query)).all()}


async def _rollup_buckets(
    db: AsyncSession,
    unit: Interval,
    local_zone: ZoneInfo,
    start: datetime,
    end: datetime,
    starts: list[datetime],
    organisation_id: uuid.UUID | None,
) -> Counts | None:
    """Counts per bucket from the rollups; None when the zone or range needs the attempts instead."""
    low, high = -(-(start - EPOCH) // QUARTER), quarter_of(end)  # whole quarters inside the range
    steps = _quarter_offsets(local_zone, quarter_of(start), quarter_of(end) + 1)
    if unit is Interval.HOUR or high <= low or low < QUARTERS_PER_DAY or steps is None:
        return None
    if not _contiguous(steps, starts):
        return None
    found: Counts = {}
    for day, ok, failed in await _rollup_days(db, steps, low, high, organisation_id):
        key = truncate(LOCAL_EPOCH + timedelta(days=day), unit.value).strftime(BUCKET_FORMAT)
        counts = found.setdefault(key, [0, 0, 0])
        counts[0] += ok
        counts[1] += failed
    edges = [(start, EPOCH + low * QUARTER), (EPOCH + high * QUARTER, end)]
    edges = [(a, b) for a, b in edges if a < b]
    if edges:
        for key, (ok, failed, _) in (
            await _attempt_buckets(db, unit, str(local_zone), edges, organisation_id)
        ).items():
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
    counted = await _distinct_in_ranges(db, from_index, organisation_id)
    if kind is not None:
        counted |= await _active_in_periods(db, kind, from_rows, organisation_id)
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
    org = _scope(admin, organisation_id)
    found = None
    if user_id is None:
        found = await _rollup_buckets(db, unit, local_zone, start, end, starts, org)
    if found is None:
        found = await _attempt_buckets(db, unit, tz, [(start, end)], org, user_id)
    buckets = []
    for cursor in starts[:-1]:
        success, failure, users = found.get(cursor.strftime(BUCKET_FORMAT), (0, 0, 0))
        buckets.append(Bucket(start=cursor, success=success, failure=failure, distinct_users=users))
    return LoginSeries(interval=unit, tz=tz, buckets=buckets)


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
HOURS_PER_WEEK = 168


async def _attempt_heatmap(
    db: AsyncSession, tz: str, ranges: Sequence[Range], organisation_id: uuid.UUID | None
) -> list[tuple[int, int, int]]:
    """(weekday 0-6 from Monday, hour, successful logins) straight from the attempts in ``ranges``."""
    if db.get_bind().dialect.name == "postgresql":
        slot = func.to_char(func.timezone(tz, LoginAttempt.created_at), "ID|HH24")
    else:
        slot = func.garrison_local(LoginAttempt.created_at, tz, "%u|%H")
    labelled = slot.label("slot")
    query = (
        select(labelled, func.count())
        .where(LoginAttempt.success.is_(True), _in_ranges(ranges))
        .group_by(labelled)
    )
    if organisation_id is not None:
        query = query.where(LoginAttempt.organisation_id == organisation_id)
    cells = []
    for key, count in (await db.execute(query)).all():
        weekday, hour = (int(part) for part in str(key).split("|"))
        cells.append((weekday - 1, hour, int(count)))
    return cells


async def _rollup_heatmap(
    db: AsyncSession, local_zone: ZoneInfo, start: datetime, end: datetime, organisation_id: uuid.UUID | None
) -> list[tuple[int, int, int]] | None:
    low, high = -(-(start - EPOCH) // QUARTER), quarter_of(end)
    steps = _quarter_offsets(local_zone, quarter_of(start), quarter_of(end) + 1)
    if high <= low or low < QUARTERS_PER_DAY or steps is None:
        return None
    # Local hours since 1970-01-01 (a Thursday), modulo a week.
    slot = (_local_quarter(steps) // 4 % HOURS_PER_WEEK).label("slot")
    query = (
        select(slot, func.sum(LoginRollup.success))
        .where(LoginRollup.kind == Kind.QUARTER, LoginRollup.period >= low, LoginRollup.period < high)
        .group_by(slot)
    )
    if organisation_id is not None:
        query = query.where(LoginRollup.organisation_id == organisation_id)
    cells = [
        ((int(hours) // 24 + 3) % 7, int(hours) % 24, int(count or 0))
        for hours, count in (await db.execute(query)).all()
    ]
    edges = [(a, b) for a, b in [(start, EPOCH + low * QUARTER), (EPOCH + high * QUARTER, end)] if a < b]
    if edges:
        cells += await _attempt_heatmap(db, str(local_zone), edges, organisation_id)
    return cells


async def heatmap(
    db: AsyncSession,
    admin: Admin,
    start: datetime,
    end: datetime,
    tz: str,
    organisation_id: uuid.UUID | None = None,
) -> Heatmap:
    local_zone = zone(tz)
    org = _scope(admin, organisation_id)
    cells = await _rollup_heatmap(db, local_zone, start, end, org)
    if cells is None:
        cells = await _attempt_heatmap(db, tz, [(start, end)], org)
    counts = [[0] * 24 for _ in range(7)]
    for weekday, hour, count in cells:
        counts[weekday][hour] += count
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
