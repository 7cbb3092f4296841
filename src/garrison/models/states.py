"""The state rules of accounts and sessions, each written once.

An account is active, blocked, locked (failed passwords, until a time), expired or deleted: one table
of rules gives both its Python form (for a loaded row or a cached copy) and its SQL form (for filters,
counts and the login statement). A session is active, expired (its time ran out) or revoked (ended by
someone or something).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, case, literal, or_

from garrison.models.session import Session
from garrison.models.user import User, UserStatus

# Sessions that ended because time ran out count as expired, not revoked.
EXPIRY_REASONS = ("session_expired", "session_idle")


class UserStatusFilter(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    LOCKED = "locked"
    EXPIRED = "expired"


class SessionState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class AccountState(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    LOCKED = "locked"
    EXPIRED = "expired"
    DELETED = "deleted"


class _AccountColumns(Protocol):
    """Where the rule reads an account: a ``User`` row, the ``users`` table's columns, or a cached copy."""

    @property
    def status(self) -> Any: ...
    @property
    def deleted_at(self) -> Any: ...
    @property
    def account_expires_at(self) -> Any: ...
    @property
    def locked_until(self) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Rule:
    """The account is in ``state`` when ``column`` is set and compares to now as ``test`` says."""

    state: AccountState
    column: str
    test: str  # "set", "is_blocked", "passed" (column <= now) or "ahead" (column > now)

    def holds(self, account: _AccountColumns, now: datetime) -> bool:
        value = getattr(account, self.column)
        if self.test == "set":
            return value is not None
        if self.test == "is_blocked":
            return bool(value == UserStatus.BLOCKED)
        if value is None:
            return False
        return bool(value <= now) if self.test == "passed" else bool(value > now)

    def sql(self, columns: _AccountColumns, now: datetime) -> ColumnElement[bool]:
        column = getattr(columns, self.column)
        if self.test == "set":
            result: ColumnElement[bool] = column.is_not(None)
        elif self.test == "is_blocked":
            result = column == UserStatus.BLOCKED
        elif self.test == "passed":
            result = and_(column.is_not(None), column <= now)
        else:
            result = and_(column.is_not(None), column > now)
        return result


# THE account-state rule, first match wins; every reader (the API's status, login, the session check,
# the agents' answer, admin filters and counts) derives its answer from this one table, in Python or SQL.
ACCOUNT_RULES = (
    _Rule(AccountState.DELETED, "deleted_at", "set"),
    _Rule(AccountState.BLOCKED, "status", "is_blocked"),
    _Rule(AccountState.EXPIRED, "account_expires_at", "passed"),
    _Rule(AccountState.LOCKED, "locked_until", "ahead"),
)
# A correct password opens a session only in these states (a lock is checked, and cleared, apart).
MAY_LOG_IN = frozenset({AccountState.ACTIVE, AccountState.LOCKED})
# A session's requests are served only in these states.
MAY_USE_SESSION = frozenset({AccountState.ACTIVE})


def account_state(account: _AccountColumns, now: datetime) -> AccountState:
    """The account's state now (Python form of :data:`ACCOUNT_RULES`)."""
    for rule in ACCOUNT_RULES:
        if rule.holds(account, now):
            return rule.state
    return AccountState.ACTIVE


def account_state_sql(now: datetime, columns: _AccountColumns | None = None) -> ColumnElement[str]:
    """The account's state now (SQL form of :data:`ACCOUNT_RULES`): one CASE expression."""
    source: Any = columns if columns is not None else User
    whens = [(rule.sql(source, now), literal(rule.state.value)) for rule in ACCOUNT_RULES]
    return case(*whens, else_=literal(AccountState.ACTIVE.value))


def account_state_in(
    states: frozenset[AccountState], now: Any, columns: _AccountColumns | None = None
) -> ColumnElement[bool]:
    """Whether the account's state is one of ``states`` (SQL); ``now`` may be a bind parameter."""
    return account_state_sql(now, columns).in_([state.value for state in states])


def user_status_condition(status: UserStatusFilter, now: datetime) -> ColumnElement[bool]:
    """The admin listing's status filter: the account's state is ``status`` (deleted users are never
    listed)."""
    return account_state_sql(now) == status.value


def session_state(now: datetime, idle_cutoff: datetime) -> ColumnElement[str]:
    """active / expired / revoked, as one SQL expression used by filters, listings and counts."""
    return case(
        (
            Session.ended_at.is_not(None),
            case((Session.end_reason.in_(EXPIRY_REASONS), literal("expired")), else_=literal("revoked")),
        ),
        (or_(Session.expires_at <= now, Session.last_seen_at <= idle_cutoff), literal("expired")),
        else_=literal("active"),
    )
