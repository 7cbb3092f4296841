"""SQL for login attempts, anomalies and the per-account failure counter (lockout).

The login path runs these on every attempt: Core statements on the tables, built once.
"""

from __future__ import annotations

import functools
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Insert, Integer, Select, Update, and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.db import TableRow, Then, insert_rows
from garrison.models import (
    Anomaly,
    AuditEvent,
    LoginAttempt,
    LoginRollup,
    Session,
    User,
    UserRole,
    UserStatus,
)
from garrison.models.base import table
from garrison.models.rollups import RollupRow
from garrison.models.security import ACTIVITY_WORDS
from garrison.models.states import MAY_LOG_IN, account_state_in

_users = table(User)
_sessions = table(Session)
_roles = table(UserRole)
_attempts = table(LoginAttempt)
_audit_events = table(AuditEvent)
_anomalies = table(Anomaly)


def login_key(login: str) -> tuple[str, str]:
    """The ``users`` column a login name is looked up in (username or email key) and its value."""
    key = unicodedata.normalize("NFKC", login.strip()).casefold()
    return ("email_key" if "@" in key else "username_key"), key


@dataclass(frozen=True, slots=True)
class OtherSession:
    id: uuid.UUID
    ip: str | None
    device_label: str | None


@dataclass(frozen=True, slots=True)
class Elsewhere:
    """Where a new login comes from: other sessions from elsewhere make it a concurrent login."""

    ip: str | None
    device: str | None


ELSEWHERE_LIMIT = 10  # other sessions read for the concurrent-login anomaly, whatever their number


def elsewhere_query() -> Select[tuple[uuid.UUID, str | None, str | None, datetime]]:
    """The user's active sessions from another address or device, newest first (parameters
    ``user_id``, ``now``, ``ip``, ``device``, ``limit``)."""
    return (
        select(_sessions.c.id, _sessions.c.ip, _sessions.c.device_label, _sessions.c.created_at)
        .where(
            _sessions.c.user_id == bindparam("user_id"),
            _sessions.c.ended_at.is_(None),
            _sessions.c.expires_at > bindparam("now"),
            or_(
                _sessions.c.ip.is_distinct_from(bindparam("ip")),
                _sessions.c.device_label.is_distinct_from(bindparam("device")),
            ),
        )
        .order_by(_sessions.c.created_at.desc())
        .limit(bindparam("limit", type_=Integer))
    )


class LoginAttemptRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def insert(
        self,
        attempt: dict[str, Any],
        event: dict[str, Any],
        rollups: Sequence[RollupRow],
        *,
        before: Sequence[TableRow] = (),
    ) -> None:
        """Append one attempt, its audit event and its rollups (rows with every column set), after the
        rows ``before`` (the session the attempt opened): one statement on PostgreSQL."""
        await insert_rows(
            self.db,
            [*before, (_audit_events, event), (_attempts, attempt)],
            then=LoginRollupRepository(self.db).upsert(rollups),
        )

    async def for_user(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[list[LoginAttempt], int]:
        total = await self.db.scalar(select(func.count()).where(LoginAttempt.user_id == user_id)) or 0
        rows = await self.db.scalars(
            select(LoginAttempt)
            .where(LoginAttempt.user_id == user_id)
            .order_by(LoginAttempt.created_at.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(rows), total


_rollups = table(LoginRollup)
_ROLLUP_KEY = ("kind", "period", "organisation_id", "user_id")


@functools.cache
def _rollup_upsert(dialect: str) -> Insert:
    """The upsert adding rows to the rollups: counts add up, activity bits are OR-ed. Built once per
    engine, with bind parameters, so its compiled form is cached. On PostgreSQL it takes one array
    per column (``rollup_<column>``, unnested in step), so any number of rows is one statement;
    elsewhere one row's columns, for executemany."""
    names = [column.name for column in _rollups.c]
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        arrays = [
            func.unnest(bindparam(f"rollup_{name}", type_=postgresql.ARRAY(_rollups.c[name].type)))
            for name in names
        ]
        statement = postgresql.insert(_rollups).from_select(names, select(*arrays))
    else:
        statement = sqlite.insert(_rollups).values({name: bindparam(name) for name in names})
    new = statement.excluded
    current = _rollups.c
    return statement.on_conflict_do_update(
        index_elements=[current[name] for name in _ROLLUP_KEY],
        set_={
            "success": current.success + new.success,
            "failure": current.failure + new.failure,
            **{name: current[name].bitwise_or(new[name]) for name in ACTIVITY_WORDS},
        },
    )


class LoginRollupRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    def upsert(self, rows: Sequence[RollupRow]) -> Then:
        """The statement adding ``rows`` (distinct keys) and its parameters, to run with other writes."""
        dialect = self.db.get_bind().dialect.name
        columns = [row.columns() for row in rows]
        if dialect != "postgresql":
            return _rollup_upsert(dialect), columns
        return _rollup_upsert(dialect), {
            f"rollup_{name}": [values[name] for values in columns]
            for name in _rollups.c.keys()  # noqa: SIM118 (names, not columns)
        }


class AnomalyRepository:
    @staticmethod
    def rows(anomaly: dict[str, Any], event: dict[str, Any]) -> list[TableRow]:
        """An anomaly and its audit event as rows to insert (with other writes of its transaction,
        through :func:`garrison.db.insert_rows`)."""
        return [(_audit_events, event), (_anomalies, anomaly)]


@dataclass(frozen=True, slots=True)
class LoginAccount:
    """The account a login name designates, as the password check needs it."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    password_hash: str | None
    reserved: bool  # an attempt was counted; False: the account is locked


@dataclass(frozen=True, slots=True)
class AccountAtLogin:
    """The account's state once a correct password has reset its failure count."""

    username: str
    organisation_id: uuid.UUID
    status: UserStatus
    deleted_at: datetime | None
    account_expires_at: datetime | None
    must_change_password: bool
    roles: tuple[str, ...] | None  # sorted; None where not read with the rest (SQLite)
    # The user's other active sessions from another address or device, at most ELSEWHERE_LIMIT;
    # None where not read with the rest.
    others: tuple[OtherSession, ...] | None = None
    locked_until: datetime | None = None  # a correct password has just cleared any lock


_LOCK_OVER = and_(_users.c.locked_until.is_not(None), _users.c.locked_until <= bindparam("now"))
_ACCOUNT = (_users.c.id, _users.c.organisation_id, _users.c.password_hash)


@functools.cache
def _reserve(column: str) -> Update:
    return (
        update(_users)
        .where(
            _users.c[column] == bindparam("key"),
            or_(
                _LOCK_OVER,
                and_(_users.c.locked_until.is_(None), _users.c.failed_login_count < bindparam("threshold")),
            ),
        )
        .values(
            failed_login_count=case((_LOCK_OVER, 1), else_=_users.c.failed_login_count + 1),
            locked_until=None,
        )
        .returning(*_ACCOUNT)
    )


# May this account log in now? The state rule's SQL form (the login flow applies its Python form).
_MAY_LOG_IN = account_state_in(MAY_LOG_IN, bindparam("now"), _users.c)


# PostgreSQL returns the user's roles with the rest of the row (an array, NULL if none).
_ROLE_ARRAY = select(func.array_agg(_roles.c.role)).where(_roles.c.user_id == _users.c.id).scalar_subquery()


# ... and, with the same statement, the user's other active sessions from another address or device
# (a JSON array of [id, ip, device label], newest first; NULL if none).
_elsewhere = elsewhere_query().subquery("elsewhere")
_OTHERS_ARRAY = select(
    func.json_agg(
        postgresql.aggregate_order_by(
            func.json_build_array(_elsewhere.c.id, _elsewhere.c.ip, _elsewhere.c.device_label),
            _elsewhere.c.created_at.desc(),
        ),
        type_=JSON,
    )
).scalar_subquery()


@functools.cache
def _succeed(stamp: bool, on_postgres: bool, with_others: bool) -> Update:
    values: dict[str, Any] = {"failed_login_count": 0, "locked_until": None}
    if stamp:
        values["last_login_at"] = case((_MAY_LOG_IN, bindparam("now")), else_=_users.c.last_login_at)
    extra = (_ROLE_ARRAY, *((_OTHERS_ARRAY,) if with_others else ())) if on_postgres else ()
    return (
        update(_users)
        .where(_users.c.id == bindparam("user_id"))
        .values(**values)
        .returning(
            _users.c.username,
            _users.c.organisation_id,
            _users.c.status,
            _users.c.deleted_at,
            _users.c.account_expires_at,
            _users.c.must_change_password,
            *extra,
        )
    )


class LockoutRepository:
    """The failure counter on ``users``; every change is one conditional UPDATE, so it is atomic."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def reserve_attempt(self, login: str, now: datetime, threshold: int) -> LoginAccount | None:
        """Find the account of a login name and count an attempt before the password is checked.

        ``None`` for an unknown name; ``reserved`` is False when the account is locked. Counting
        first means parallel attempts cannot together exceed the threshold. An expired lock starts a
        fresh count.
        """
        column, key = login_key(login)
        params = {"key": key, "now": now, "threshold": threshold}
        row = (await self.db.execute(_reserve(column), params)).first()
        if row is not None:
            return LoginAccount(row[0], row[1], row[2], reserved=True)
        row = (await self.db.execute(select(*_ACCOUNT).where(_users.c[column] == key))).first()
        return None if row is None else LoginAccount(row[0], row[1], row[2], reserved=False)

    async def succeed(
        self, user_id: uuid.UUID, now: datetime, *, stamp_login: bool, client: Elsewhere | None = None
    ) -> AccountAtLogin:
        """A correct password: the failure count starts again, and (with ``stamp_login``, when the
        account may log in) ``last_login_at`` is set. The account's state, read in the same statement;
        on PostgreSQL with its roles and, given the ``client``'s address and device, the user's active
        sessions elsewhere (one round trip instead of three).
        """
        on_postgres = self.db.get_bind().dialect.name == "postgresql"
        with_others = on_postgres and client is not None
        params: dict[str, Any] = {"user_id": user_id, "now": now}
        if client is not None and with_others:
            params.update(ip=client.ip, device=client.device, limit=ELSEWHERE_LIMIT)
        row = (await self.db.execute(_succeed(stamp_login, on_postgres, with_others), params)).one()
        username, organisation_id, status, deleted_at, account_expires_at, must_change = row[:6]
        others = None
        if with_others:
            others = tuple(OtherSession(uuid.UUID(id_), ip, device) for id_, ip, device in row[7] or ())
        return AccountAtLogin(
            username,
            organisation_id,
            status,
            deleted_at,
            account_expires_at,
            must_change,
            roles=tuple(sorted(row[6] or ())) if on_postgres else None,
            others=others,
        )

    async def lock_if_exhausted(self, user_id: uuid.UUID, threshold: int, until: datetime) -> bool:
        """After a failed attempt: lock when the count has reached the threshold. True if locked now."""
        result = await self.db.execute(
            update(User)
            .where(User.id == user_id, User.failed_login_count >= threshold, User.locked_until.is_(None))
            .values(locked_until=until)
            .returning(User.id)
        )
        return result.scalar_one_or_none() is not None
