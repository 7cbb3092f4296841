"""Session state on the hot path: is this session active and its user allowed, without the database.

Tiers, fastest first:
- a per-process dict, used only while it can be invalidated: with Redis, while the pub/sub
  subscription is up; without Redis, only when this is the sole process (SQLite, one worker);
- the shared cache (Redis, or the in-process cache when this is the sole process);
- the database, the truth, read on a miss.

Ended sessions are written as *final* values, so a reader holding an older "active" reading can never
overwrite them (see :meth:`garrison.cache.Cache.set_unless_final`). Flushing Redis loses nothing: the
next miss reads the database again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import structlog

from garrison.cache import FINAL, Cache, Entry
from garrison.config import Settings
from garrison.db import Database
from garrison.models import UserStatus
from garrison.models.states import MAY_USE_SESSION, AccountState, account_state
from garrison.sessions.repository import SessionRecord, SessionRepository

INVALIDATION_CHANNEL = "session-invalidations"
# Why a session cannot be used, by the state of its account.
_SESSION_REFUSALS = {
    AccountState.DELETED: "user_blocked",
    AccountState.BLOCKED: "user_blocked",
    AccountState.EXPIRED: "account_expired",
    AccountState.LOCKED: "account_locked",
}
log = structlog.get_logger("garrison.sessions")


class CacheMode(StrEnum):
    REDIS = "redis"  # shared Redis tier + local tier invalidated over pub/sub
    LOCAL = "local"  # the only process: in-process cache is exact
    DATABASE = "database"  # several processes and no Redis: every check reads the database


@dataclass(frozen=True, slots=True)
class SessionState:
    session_id: uuid.UUID
    user_id: uuid.UUID
    organisation_id: uuid.UUID
    username: str
    roles: tuple[str, ...]
    expires_at: datetime  # absolute session lifetime
    idle_expires_at: datetime
    blocked: bool
    locked_until: datetime | None
    account_expires_at: datetime | None
    must_change_password: bool

    # The account as the state rule reads it (a deleted user's sessions are cached as blocked).
    @property
    def status(self) -> UserStatus:
        return UserStatus.BLOCKED if self.blocked else UserStatus.ACTIVE

    deleted_at = None

    def problem(self, now: datetime) -> str | None:
        """Why this session cannot be used now, or ``None`` when it can."""
        state = account_state(self, now)
        if state not in MAY_USE_SESSION:
            return _SESSION_REFUSALS[state]
        if now >= self.expires_at:
            return "session_expired"
        if now >= self.idle_expires_at:
            return "session_idle"
        return None

    def encode(self) -> bytes:
        return json.dumps(
            [
                str(self.session_id),
                str(self.user_id),
                str(self.organisation_id),
                self.username,
                list(self.roles),
                self.expires_at.timestamp(),
                self.idle_expires_at.timestamp(),
                self.blocked,
                self.locked_until.timestamp() if self.locked_until else None,
                self.account_expires_at.timestamp() if self.account_expires_at else None,
                self.must_change_password,
            ],
            separators=(",", ":"),
        ).encode()

    @classmethod
    def decode(cls, raw: bytes) -> SessionState:
        sid, uid, org, username, roles, exp, idle, blocked, locked, acct, must = json.loads(raw)

        def ts(value: float | None) -> datetime | None:
            return None if value is None else datetime.fromtimestamp(value, UTC)

        return cls(
            session_id=uuid.UUID(sid),
            user_id=uuid.UUID(uid),
            organisation_id=uuid.UUID(org),
            username=username,
            roles=tuple(roles),
            expires_at=datetime.fromtimestamp(exp, UTC),
            idle_expires_at=datetime.fromtimestamp(idle, UTC),
            blocked=blocked,
            locked_until=ts(locked),
            account_expires_at=ts(acct),
            must_change_password=must,
        )


def state_of(record: SessionRecord, idle_timeout: timedelta) -> SessionState:
    return SessionState(
        session_id=record.id,
        user_id=record.user_id,
        organisation_id=record.organisation_id,
        username=record.username,
        roles=record.roles,
        expires_at=record.expires_at,
        idle_expires_at=record.last_seen_at + idle_timeout,
        blocked=record.user_status is UserStatus.BLOCKED or record.user_deleted_at is not None,
        locked_until=record.locked_until,
        account_expires_at=record.account_expires_at,
        must_change_password=record.must_change_password,
    )


Lookup = SessionState | str  # the state, or why the session ended


class SessionCache:
    def __init__(self, database: Database, cache: Cache, settings: Settings) -> None:
        self._database = database
        self._cache = cache
        self._idle = timedelta(seconds=settings.session_idle_timeout)
        self._ttl = max(settings.session_cache_ttl, 0.001)
        # An ended session's tokens all expire within this; its final marker need not outlive them.
        self._final_ttl = float(settings.access_token_ttl + settings.token_leeway + 60)
        if cache.backend == "redis":
            self.mode = CacheMode.REDIS
        elif settings.is_sqlite and settings.workers == 1:
            self.mode = CacheMode.LOCAL
        else:
            self.mode = CacheMode.DATABASE
        self._local: dict[uuid.UUID, tuple[float, Lookup]] = {}
        # The local tier holds decoded states. Redis mode keeps it only while subscribed; as the only
        # process (LOCAL), every change passes through _publish, so it is exact. The generation
        # counts invalidations so that a read that raced one is not kept.
        self._local_enabled = self.mode is CacheMode.LOCAL
        self._generation = 0
        self._listener: asyncio.Task[None] | None = None

    @staticmethod
    def _key(session_id: uuid.UUID) -> str:
        return f"session:{session_id}"

    async def start(self) -> None:
        if self.mode is CacheMode.REDIS:
            ready = asyncio.Event()
            self._listener = asyncio.create_task(self._listen(ready))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), 2)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    async def _listen(self, ready: asyncio.Event) -> None:
        """Drop local entries other instances invalidate; without the subscription, use no local tier."""
        delay = 0.1
        while True:
            try:
                async with self._cache.subscribe(INVALIDATION_CHANNEL) as messages:
                    self._local.clear()
                    self._local_enabled = True
                    ready.set()
                    delay = 0.1
                    async for message in messages:
                        self._generation += 1
                        for part in message.split(b","):
                            with contextlib.suppress(ValueError):
                                self._local.pop(uuid.UUID(part.decode()), None)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("session_invalidation_subscription_lost", retry_in=delay)
            self._local_enabled = False
            self._generation += 1
            self._local.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    def _remember(self, session_id: uuid.UUID, value: Lookup, generation: int) -> None:
        if self._local_enabled and generation == self._generation:
            if len(self._local) > 100_000:
                self._local.clear()
            self._local[session_id] = (time.monotonic() + self._ttl, value)

    async def lookup(self, session_id: uuid.UUID) -> Lookup:
        """The session's state, or the reason it cannot be used (``"unknown"`` if it never existed)."""
        if self.mode is CacheMode.DATABASE:
            return await self._load(session_id)
        local = self._local.get(session_id)
        if local is not None and local[0] > time.monotonic():
            return local[1]
        generation = self._generation
        raw = await self._cache.get(self._key(session_id))
        if raw is not None:
            value: Lookup = raw[1:].decode() if raw.startswith(FINAL) else SessionState.decode(raw)
        else:
            value = await self._load(session_id)
            await self._write(session_id, value)
        self._remember(session_id, value, generation)
        return value

    async def _load(self, session_id: uuid.UUID) -> Lookup:
        async with self._database.sessions() as db:
            record = await SessionRepository(db).get_record(session_id)
        if record is None:
            return "unknown"
        if record.ended_at is not None:
            return record.end_reason or "ended"
        return state_of(record, self._idle)

    def _entry(self, session_id: uuid.UUID, value: Lookup) -> Entry:
        if isinstance(value, str):
            return self._key(session_id), FINAL + value.encode(), self._final_ttl
        return self._key(session_id), value.encode(), self._ttl * 10

    async def _write(self, session_id: uuid.UUID, value: Lookup) -> None:
        if isinstance(value, str):
            await self._cache.set(self._key(session_id), FINAL + value.encode(), ttl=self._final_ttl)
        else:
            await self._cache.set_unless_final(self._key(session_id), value.encode(), ttl=self._ttl * 10)

    async def ended(self, session_ids: Iterable[uuid.UUID], reason: str) -> None:
        """Record ended sessions everywhere; call after the database change has committed."""
        await self._publish(dict.fromkeys(session_ids, reason))

    async def changed(self, states: Iterable[SessionState]) -> None:
        """Replace cached states (user locked, refreshed, ...); call after the change has committed."""
        await self._publish({state.session_id: state for state in states})

    async def _publish(self, values: dict[uuid.UUID, Lookup]) -> None:
        if not values or self.mode is CacheMode.DATABASE:
            return
        self._generation += 1
        for session_id in values:
            self._local.pop(session_id, None)
        # The values and the invalidation message together: one round trip to Redis.
        await self._cache.write_states(
            [self._entry(session_id, value) for session_id, value in values.items()],
            INVALIDATION_CHANNEL if self.mode is CacheMode.REDIS else "",
            ",".join(str(s) for s in values).encode(),
        )
