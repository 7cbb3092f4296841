"""SQL of the login analytics: series and heatmap cells read from the attempts or the rollups."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Boolean,
    ColumnElement,
    Integer,
    String,
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

from garrison.analytics.schemas import Interval
from garrison.authz.scope import OrgScope
from garrison.models import LoginAttempt, LoginRollup
from garrison.models.base import UTCDateTime
from garrison.models.rollups import (
    EPOCH,
    QUARTER,
    QUARTERS_PER_DAY,
    ActivityMasks,
    Kind,
    quarter_of,
    to_words,
)
from garrison.models.security import ACTIVITY_WORDS

Range = tuple[datetime, datetime]

Counts = dict[str, list[int]]  # bucket key -> [success, failure, distinct users]

LOCAL_EPOCH = EPOCH.replace(tzinfo=None)

OFFSET_PROBE = 6 * 3600  # seconds; no zone changes its offset twice within this

QUARTER_SECONDS = int(QUARTER.total_seconds())


def utc_offset(zone: ZoneInfo, at: datetime) -> timedelta:
    offset = at.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def quarter_offsets(zone: ZoneInfo, low: int, high: int) -> list[tuple[int, int]] | None:
    """The zone's UTC offset over quarters [low, high) as (first quarter, offset in quarters) steps;
    None if an offset or a change of offset is not on a quarter hour."""

    def offset(second: int) -> timedelta:
        return utc_offset(zone, EPOCH + timedelta(seconds=second))

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


HOURS_PER_WEEK = 168


def bucket_expr(db: AsyncSession, unit: Interval, tz: str) -> ColumnElement[str]:
    if db.get_bind().dialect.name == "postgresql":
        local = func.timezone(tz, LoginAttempt.created_at)
        return func.to_char(func.date_trunc(unit.value, local), 'YYYY-MM-DD"T"HH24:MI')
    return func.garrison_bucket(LoginAttempt.created_at, unit.value, tz)


def in_ranges(ranges: Sequence[Range]) -> ColumnElement[bool]:
    return or_(
        *(and_(LoginAttempt.created_at >= low, LoginAttempt.created_at < high) for low, high in ranges)
    )


async def attempt_buckets(
    db: AsyncSession,
    unit: Interval,
    tz: str,
    ranges: Sequence[Range],
    scope: OrgScope,
    user_id: uuid.UUID | None = None,
) -> Counts:
    """Counts per local bucket straight from the attempts in ``ranges``."""
    bucket = bucket_expr(db, unit, tz).label("bucket")
    success = func.sum(case((LoginAttempt.success.is_(True), 1), else_=0))
    failure = func.sum(case((LoginAttempt.success.is_(False), 1), else_=0))
    users = func.count(
        func.distinct(case((LoginAttempt.success.is_(True), LoginAttempt.user_id), else_=literal(None)))
    )
    query = select(bucket, success, failure, users).where(in_ranges(ranges)).group_by(bucket)
    query = query.where(scope.clause(LoginAttempt.organisation_id))
    if user_id is not None:
        query = query.where(LoginAttempt.user_id == user_id)
    return {
        str(key): [int(ok or 0), int(failed or 0), int(distinct_users or 0)]
        for key, ok, failed, distinct_users in (await db.execute(query)).all()
    }


def local_quarter(steps: list[tuple[int, int]]) -> ColumnElement[int]:
    """A rollup row's quarter in local wall-clock time."""
    period = LoginRollup.period
    if len(steps) == 1:
        return period + steps[0][1]
    changes = [(period < steps[i + 1][0], steps[i][1]) for i in range(len(steps) - 1)]
    return period + case(*changes, else_=steps[-1][1])


async def rollup_days(
    db: AsyncSession, steps: list[tuple[int, int]], low: int, high: int, scope: OrgScope
) -> list[tuple[int, int, int]]:
    """(local day number, successes, failures) over quarters [low, high)."""
    day = (local_quarter(steps) // QUARTERS_PER_DAY).label("day")
    query = (
        select(day, func.sum(LoginRollup.success), func.sum(LoginRollup.failure))
        .where(LoginRollup.kind == Kind.QUARTER, LoginRollup.period >= low, LoginRollup.period < high)
        .group_by(day)
    )
    query = query.where(scope.clause(LoginRollup.organisation_id))
    return [(int(d), int(ok or 0), int(ko or 0)) for d, ok, ko in (await db.execute(query)).all()]


def values(
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


async def no_jit(db: AsyncSession) -> None:
    if db.get_bind().dialect.name == "postgresql":
        # A few hundred cheap index scans add up to a cost that would have PostgreSQL JIT-compile the
        # query, which takes longer than running it.
        await db.execute(text("SET LOCAL jit = off"))


async def distinct_in_ranges(
    db: AsyncSession, ranges: Sequence[tuple[int, Range]], scope: OrgScope
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
    wanted, params = values(db, "wanted", columns, [(index, low, high) for index, (low, high) in ranges])
    within, within_params = scope.text_clause("a.organisation_id")
    query = text(
        f"WITH {wanted} "  # noqa: S608 (names are constants; every value is bound)
        "SELECT wanted.i, (SELECT count(DISTINCT a.user_id) FROM login_attempts AS a"
        " WHERE a.success = :yes AND a.created_at >= wanted.low AND a.created_at < wanted.high"
        f"{within}) FROM wanted"
    ).bindparams(*params, *within_params, bindparam("yes", True, type_=Boolean()))
    await no_jit(db)
    return {int(index): int(count or 0) for index, count in (await db.execute(query)).all()}


async def active_in_periods(
    db: AsyncSession,
    kind: Kind,
    periods: Sequence[tuple[int, int, ActivityMasks]],
    scope: OrgScope,
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
    mask_table, mask_params = values(
        db,
        "masks",
        mask_columns,
        [
            (number, *to_words(masks.head, 3), *to_words(masks.days, 1), *to_words(masks.tail, 3))
            for masks, number in mask_ids.items()
        ],
    )
    columns: list[tuple[str, TypeEngine[Any]]] = [("i", Integer()), ("period", Integer()), ("m", Integer())]
    wanted, params = values(
        db, "wanted", columns, [(index, period, mask_ids[masks]) for index, period, masks in periods]
    )
    within, within_params = scope.text_clause("r.organisation_id")
    hits = " OR ".join(f"(r.{name} & masks.{name}) <> 0" for name in ACTIVITY_WORDS)
    query = text(
        f"WITH {mask_table}, {wanted} "  # noqa: S608 (names are constants; every value is bound)
        "SELECT wanted.i, (SELECT count(*) FROM login_rollups AS r"
        f" WHERE r.kind = :kind AND r.period = wanted.period{within} AND ({hits}))"
        " FROM wanted JOIN masks ON masks.m = wanted.m"
    ).bindparams(*mask_params, *params, *within_params, bindparam("kind", str(kind), type_=String()))
    await no_jit(db)
    return {int(index): int(count or 0) for index, count in (await db.execute(query)).all()}


async def attempt_heatmap(
    db: AsyncSession, tz: str, ranges: Sequence[Range], scope: OrgScope
) -> list[tuple[int, int, int]]:
    """(weekday 0-6 from Monday, hour, successful logins) straight from the attempts in ``ranges``."""
    if db.get_bind().dialect.name == "postgresql":
        slot = func.to_char(func.timezone(tz, LoginAttempt.created_at), "ID|HH24")
    else:
        slot = func.garrison_local(LoginAttempt.created_at, tz, "%u|%H")
    labelled = slot.label("slot")
    query = (
        select(labelled, func.count())
        .where(LoginAttempt.success.is_(True), in_ranges(ranges))
        .group_by(labelled)
    )
    query = query.where(scope.clause(LoginAttempt.organisation_id))
    cells = []
    for key, count in (await db.execute(query)).all():
        weekday, hour = (int(part) for part in str(key).split("|"))
        cells.append((weekday - 1, hour, int(count)))
    return cells


async def rollup_heatmap(
    db: AsyncSession, local_zone: ZoneInfo, start: datetime, end: datetime, scope: OrgScope
) -> list[tuple[int, int, int]] | None:
    low, high = -(-(start - EPOCH) // QUARTER), quarter_of(end)
    steps = quarter_offsets(local_zone, quarter_of(start), quarter_of(end) + 1)
    if high <= low or low < QUARTERS_PER_DAY or steps is None:
        return None
    # Local hours since 1970-01-01 (a Thursday), modulo a week.
    slot = (local_quarter(steps) // 4 % HOURS_PER_WEEK).label("slot")
    query = (
        select(slot, func.sum(LoginRollup.success))
        .where(LoginRollup.kind == Kind.QUARTER, LoginRollup.period >= low, LoginRollup.period < high)
        .group_by(slot)
    )
    query = query.where(scope.clause(LoginRollup.organisation_id))
    cells = [
        ((int(hours) // 24 + 3) % 7, int(hours) % 24, int(count or 0))
        for hours, count in (await db.execute(query)).all()
    ]
    edges = [(a, b) for a, b in [(start, EPOCH + low * QUARTER), (EPOCH + high * QUARTER, end)] if a < b]
    if edges:
        cells += await attempt_heatmap(db, str(local_zone), edges, scope)
    return cells
