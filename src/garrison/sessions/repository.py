"""SQL for sessions and refresh tokens. Rotation and ending are single conditional UPDATEs: atomic.

Login, refresh and the session check run the statements here many times a second, so those are Core
statements built once, on the tables: no unit of work, no identity map, no statement building per call.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authz.scope import OrgScope
from garrison.db import TableRow
from garrison.models import RefreshToken, Session, User, UserRole, UserStatus
from garrison.models.base import table
from garrison.models.states import SessionState, session_state
from garrison.security.repository import ELSEWHERE_LIMIT, Elsewhere, OtherSession, elsewhere_query

_sessions = table(Session)
_tokens = table(RefreshToken)
_users = table(User)
_roles = table(UserRole)
_ELSEWHERE = elsewhere_query()

# A session, its user and the user's roles: one row per role (one row with role NULL if none).
_STATE_COLUMNS = (
    _sessions.c.id,
    _sessions.c.user_id,
    _sessions.c.organisation_id,
    _sessions.c.expires_at,
    _sessions.c.last_seen_at,
    _sessions.c.ended_at,
    _sessions.c.end_reason,
    _users.c.username,
    _users.c.status,
    _users.c.deleted_at,
    _users.c.locked_until,
    _users.c.account_expires_at,
    _users.c.must_change_password,
    _roles.c.role,
)
_WITH_USER = _sessions.join(_users, _users.c.id == _sessions.c.user_id).outerjoin(
    _roles, _roles.c.user_id == _users.c.id
)
_STATE = select(*_STATE_COLUMNS).select_from(_WITH_USER).where(_sessions.c.id == bindparam("session_id"))
_CLAIM = (
    update(_tokens)
    .where(_tokens.c.token_hash == bindparam("hash"), _tokens.c.rotated_at.is_(None))
    .values(rotated_at=bindparam("now"))
    .returning(_tokens.c.session_id)
)
# PostgreSQL runs a data-modifying CTE and the query around it as one statement: one round trip.
_claimed = _CLAIM.cte("claimed")
_CLAIM_WITH_STATE = select(*_STATE_COLUMNS).select_from(
    _claimed.join(_WITH_USER, _sessions.c.id == _claimed.c.session_id)
)
_FIND_TOKEN = select(_tokens.c.session_id, _tokens.c.organisation_id).where(
    _tokens.c.token_hash == bindparam("hash")
)
_INSERT_TOKEN = insert(_tokens).values(
    id=bindparam("token_id"),
    session_id=bindparam("sid"),
    organisation_id=bindparam("org"),
    token_hash=bindparam("hash"),
    issued_at=bindparam("now"),
)
_TOUCH = update(_sessions).where(_sessions.c.id == bindparam("sid")).values(last_seen_at=bindparam("now"))
_TOUCH_AND_INSERT_TOKEN = _INSERT_TOKEN.add_cte(_TOUCH.cte("touched"))


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """What the session check needs of a session and its user, read in one statement."""

    id: uuid.UUID
    user_id: uuid.UUID
    organisation_id: uuid.UUID
    expires_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    username: str
    user_status: UserStatus
    user_deleted_at: datetime | None
    locked_until: datetime | None
    account_expires_at: datetime | None
    must_change_password: bool
    roles: tuple[str, ...]


def _record(rows: Sequence[Row[*tuple[Any, ...]]]) -> SessionRecord | None:
    if not rows:
        return None
    first = rows[0]
    return SessionRecord(
        id=first.id,
        user_id=first.user_id,
        organisation_id=first.organisation_id,
        expires_at=first.expires_at,
        last_seen_at=first.last_seen_at,
        ended_at=first.ended_at,
        end_reason=first.end_reason,
        username=first.username,
        user_status=first.status,
        user_deleted_at=first.deleted_at,
        locked_until=first.locked_until,
        account_expires_at=first.account_expires_at,
        must_change_password=first.must_change_password,
        roles=tuple(sorted(row.role for row in rows if row.role is not None)),
    )


@dataclass(frozen=True, slots=True)
class SessionFilters:
    user_id: uuid.UUID | None = None
    state: SessionState | None = None
    since: datetime | None = None
    until: datetime | None = None
    ip: str | None = None


class SessionRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    @property
    def _postgres(self) -> bool:
        return self.db.get_bind().dialect.name == "postgresql"

    async def get_record(self, session_id: uuid.UUID) -> SessionRecord | None:
        return _record((await self.db.execute(_STATE, {"session_id": session_id})).all())

    async def get_for_user(self, session_id: uuid.UUID, user_id: uuid.UUID) -> Session | None:
        return await self.db.scalar(
            select(Session).where(Session.id == session_id, Session.user_id == user_id)
        )

    def new_session(
        self,
        *,
        user_id: uuid.UUID,
        organisation_id: uuid.UUID,
        now: datetime,
        expires_at: datetime,
        ip: str | None,
        user_agent: str | None,
        device_label: str | None,
        refresh_token_hash: str,
    ) -> tuple[uuid.UUID, list[TableRow]]:
        """A new session with its first refresh token: its id and the rows to insert (with other
        writes of the same transaction, through :func:`garrison.db.insert_rows`)."""
        session_id = uuid.uuid4()
        session = {
            "id": session_id,
            "organisation_id": organisation_id,
            "user_id": user_id,
            "created_at": now,
            "last_seen_at": now,
            "expires_at": expires_at,
            "ended_at": None,
            "end_reason": None,
            "ip": ip,
            "user_agent": user_agent,
            "device_label": device_label,
        }
        token = {
            "id": uuid.uuid4(),
            "session_id": session_id,
            "organisation_id": organisation_id,
            "token_hash": refresh_token_hash,
            "issued_at": now,
            "rotated_at": None,
        }
        return session_id, [(_sessions, session), (_tokens, token)]

    async def insert_refresh_token(
        self,
        session_id: uuid.UUID,
        organisation_id: uuid.UUID,
        token_hash: str,
        now: datetime,
        *,
        touch_session: bool = False,
    ) -> None:
        """Store the session's next refresh token; with ``touch_session``, the session was seen now."""
        params = {
            "token_id": uuid.uuid4(),
            "sid": session_id,
            "org": organisation_id,
            "hash": token_hash,
            "now": now,
        }
        if touch_session and self._postgres:
            await self.db.execute(_TOUCH_AND_INSERT_TOKEN, params)
            return
        if touch_session:
            await self.db.execute(_TOUCH, params)
        await self.db.execute(_INSERT_TOKEN, params)

    async def claim_refresh_token(self, token_hash: str, now: datetime) -> SessionRecord | None:
        """Mark an unused refresh token used; its session, or None if unknown or already used.

        One UPDATE with the "unused" condition in its WHERE clause: of concurrent claims exactly one
        matches a row, on PostgreSQL (row lock, re-check after wait) and SQLite (one writer) alike.
        On PostgreSQL the session is read in the same statement.
        """
        params = {"hash": token_hash, "now": now}
        if self._postgres:
            return _record((await self.db.execute(_CLAIM_WITH_STATE, params)).all())
        session_id = await self.db.scalar(_CLAIM, params)
        return None if session_id is None else await self.get_record(session_id)

    async def current_refresh_session(self, token_hash: str) -> uuid.UUID | None:
        """The session of a refresh token that has not been rotated yet; nothing is spent."""
        return await self.db.scalar(
            select(_tokens.c.session_id).where(
                _tokens.c.token_hash == token_hash, _tokens.c.rotated_at.is_(None)
            )
        )

    async def find_refresh_token(self, token_hash: str) -> tuple[uuid.UUID, uuid.UUID] | None:
        """The session and organisation ids of a refresh token, used or not."""
        row = (await self.db.execute(_FIND_TOKEN, {"hash": token_hash})).first()
        return None if row is None else (row[0], row[1])

    async def end(self, session_ids: Sequence[uuid.UUID], now: datetime, reason: str) -> list[uuid.UUID]:
        """End the given sessions that are still active; the ids actually ended."""
        if not session_ids:
            return []
        result = await self.db.execute(
            update(Session)
            .where(Session.id.in_(session_ids), Session.ended_at.is_(None))
            .values(ended_at=now, end_reason=reason)
            .returning(Session.id)
        )
        return list(result.scalars())

    async def active_ids(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        result = await self.db.scalars(
            select(Session.id).where(Session.user_id == user_id, Session.ended_at.is_(None))
        )
        return list(result)

    @staticmethod
    def _active(user_id: uuid.UUID, now: datetime) -> ColumnElement[bool]:
        return and_(Session.user_id == user_id, Session.ended_at.is_(None), Session.expires_at > now)

    async def count_active(self, user_id: uuid.UUID, now: datetime) -> int:
        return int(await self.db.scalar(select(func.count()).where(self._active(user_id, now))) or 0)

    async def oldest_active(self, user_id: uuid.UUID, now: datetime, count: int) -> list[uuid.UUID]:
        result = await self.db.scalars(
            select(Session.id).where(self._active(user_id, now)).order_by(Session.created_at).limit(count)
        )
        return list(result)

    async def active_elsewhere(
        self, user_id: uuid.UUID, now: datetime, client: Elsewhere
    ) -> list[OtherSession]:
        """Active sessions of the user from another address or device (at most ``ELSEWHERE_LIMIT``)."""
        params = {"user_id": user_id, "now": now, "ip": client.ip, "device": client.device}
        result = await self.db.execute(_ELSEWHERE, {**params, "limit": ELSEWHERE_LIMIT})
        return [OtherSession(row.id, row.ip, row.device_label) for row in result]

    async def list_for_user(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[list[Session], int]:
        total = await self.db.scalar(select(func.count()).where(Session.user_id == user_id)) or 0
        result = await self.db.scalars(
            select(Session)
            .where(Session.user_id == user_id)
            .order_by(Session.created_at.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(result), total

    async def list_filtered(
        self,
        scope: OrgScope,
        filters: SessionFilters,
        now: datetime,
        idle_cutoff: datetime,
        *,
        limit: int,
        offset: int,
    ) -> tuple[list[tuple[Session, str, str]], int]:
        state = session_state(now, idle_cutoff)
        query = (
            select(Session, User.username, state.label("state"))
            .join(User, User.id == Session.user_id)
            .where(scope.clause(Session.organisation_id))
        )
        if filters.user_id is not None:
            query = query.where(Session.user_id == filters.user_id)
        if filters.state is not None:
            query = query.where(state == filters.state.value)
        if filters.since is not None:
            query = query.where(Session.created_at >= filters.since)
        if filters.until is not None:
            query = query.where(Session.created_at < filters.until)
        if filters.ip:
            query = query.where(Session.ip == filters.ip)
        total = await self.db.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.db.execute(
            query.order_by(Session.created_at.desc(), Session.id).limit(limit).offset(offset)
        )
        return [(session, username, label) for session, username, label in rows.all()], total

    async def get(self, session_id: uuid.UUID) -> Session | None:
        return await self.db.get(Session, session_id)

    async def get_in(self, scope: OrgScope, session_id: uuid.UUID) -> Session | None:
        """The session if it belongs to ``scope``."""
        return await self.db.scalar(
            select(Session).where(Session.id == session_id, scope.clause(Session.organisation_id))
        )
