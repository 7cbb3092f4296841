"""SQL for login attempts, anomalies and the per-account failure counter (lockout).

The login path runs these on every attempt: Core statements on the tables, built once.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Update, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.db import insert_rows
from garrison.identity.repository import login_key
from garrison.models import Anomaly, AuditEvent, LoginAttempt, LoginRollup, User, UserRole, UserStatus
from garrison.models.base import table
from garrison.models.security import ACTIVITY_WORDS
from garrison.security.rollups import RollupRow

_users = table(User)
_roles = table(UserRole)
_attempts = table(LoginAttempt)
_audit_events = table(AuditEvent)
_INSERT_ANOMALY = insert(table(Anomaly))


class LoginAttemptRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def insert_with_event(self, attempt: dict[str, Any], event: dict[str, Any]) -> None:
        """Append one attempt and its audit event (rows with every column set), in one statement
        where the engine allows it."""
        await insert_rows(self.db, [(_audit_events, event), (_attempts, attempt)])

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


class LoginRollupRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def add(self, rows: Sequence[RollupRow]) -> None:
        """Add ``rows`` to the rollups in one upsert: counts add up, activity bits are OR-ed."""
        dialect = self.db.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(LoginRollup).values([row.columns() for row in rows])
        new = statement.excluded
        row = LoginRollup
        statement = statement.on_conflict_do_update(
            index_elements=[row.kind, row.period, row.organisation_id, row.user_id],
            set_={
                "success": row.success + new.success,
                "failure": row.failure + new.failure,
                **{name: getattr(row, name).bitwise_or(new[name]) for name in ACTIVITY_WORDS},
            },
        )
        await self.db.execute(statement)


class AnomalyRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def insert(self, values: dict[str, Any]) -> None:
        await self.db.execute(_INSERT_ANOMALY, values)


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


# The condition of SessionService._status_refusal, in SQL: may this account log in now?
_MAY_LOG_IN = and_(
    _users.c.status == UserStatus.ACTIVE,
    _users.c.deleted_at.is_(None),
    or_(_users.c.account_expires_at.is_(None), _users.c.account_expires_at > bindparam("now")),
)


# PostgreSQL returns the user's roles with the rest of the row (an array, NULL if none).
_ROLE_ARRAY = select(func.array_agg(_roles.c.role)).where(_roles.c.user_id == _users.c.id).scalar_subquery()


@functools.cache
def _succeed(stamp: bool, with_roles: bool) -> Update:
    values: dict[str, Any] = {"failed_login_count": 0, "locked_until": None}
    if stamp:
        values["last_login_at"] = case((_MAY_LOG_IN, bindparam("now")), else_=_users.c.last_login_at)
    roles = (_ROLE_ARRAY,) if with_roles else ()
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
            *roles,
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

    async def succeed(self, user_id: uuid.UUID, now: datetime, *, stamp_login: bool) -> AccountAtLogin:
        """A correct password: the failure count starts again, and (with ``stamp_login``, when the
        account may log in) ``last_login_at`` is set. The account's state, read in the same statement
        (on PostgreSQL with its roles).
        """
        params = {"user_id": user_id, "now": now}
        with_roles = self.db.get_bind().dialect.name == "postgresql"
        row = (await self.db.execute(_succeed(stamp_login, with_roles), params)).one()
        username, organisation_id, status, deleted_at, account_expires_at, must_change = row[:6]
        return AccountAtLogin(
            username,
            organisation_id,
            status,
            deleted_at,
            account_expires_at,
            must_change,
            roles=tuple(sorted(row[6] or ())) if with_roles else None,
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

    async def reset(self, user_id: uuid.UUID) -> None:
        await self.db.execute(
            update(User).where(User.id == user_id).values(failed_login_count=0, locked_until=None)
        )
