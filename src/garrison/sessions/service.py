"""Sessions: refresh-token rotation, logout and revocation (login is :mod:`garrison.sessions.login`).

Refresh runs its own transaction instead of the request's: a refused refresh must still be committed
(reuse detection revokes the session) although the request ends in an error.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authn.passwords import PasswordHasher
from garrison.authn.subject import ClientInfo
from garrison.config import Settings
from garrison.db import AfterCommit, Database, after_commit
from garrison.errors import NotFound
from garrison.events.service import Actor, record
from garrison.keys.service import KeyStore, Signer
from garrison.kit.clock import Clock
from garrison.kit.crypto import derive_key, keyed_hash, random_token
from garrison.kit.useragent import device_label
from garrison.models import Session
from garrison.security.ratelimit import RateLimiter
from garrison.security.service import AnomalyType, DetectedAnomaly, raise_anomaly
from garrison.sessions.errors import InvalidRefreshToken
from garrison.sessions.repository import SessionRepository
from garrison.sessions.state import SessionCache, SessionState, state_of
from garrison.sessions.tokens import issue_access_token

REFRESH_PREFIX = "gar_rt_"
log = structlog.get_logger("garrison.sessions")
_MAX_REFRESH_LENGTH = 128


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    session_id: uuid.UUID
    password_change_required: bool
    session_expires_at: datetime


class SessionService:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Clock,
        keys: KeyStore,
        hasher: PasswordHasher,
        cache: SessionCache,
        limiter: RateLimiter,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self.keys = keys
        self.hasher = hasher
        self.cache = cache
        self.limiter = limiter
        self._refresh_key = derive_key(settings.secret(), "refresh-token")
        self._idle = timedelta(seconds=settings.session_idle_timeout)

    def hash_refresh(self, token: str) -> str:
        return keyed_hash(self._refresh_key, token)

    def pair(
        self,
        signer: Signer,
        refresh: str,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        organisation_id: uuid.UUID,
        roles: tuple[str, ...],
        must_change_password: bool,
        session_expires_at: datetime,
    ) -> TokenPair:
        """The tokens to hand out: a new access token, and the refresh token already stored."""
        access, expires_in = issue_access_token(
            signer,
            self.settings,
            self.clock,
            user_id=user_id,
            session_id=session_id,
            organisation_id=organisation_id,
            roles=roles,
        )
        return TokenPair(access, expires_in, refresh, session_id, must_change_password, session_expires_at)

    # -- refresh -------------------------------------------------------------------------------

    async def refresh(self, token: str, client: ClientInfo) -> TokenPair:
        """Rotate a refresh token (RFC 6749 §6; RFC 9700 §4.14.2): reuse revokes the whole session."""
        if not token.startswith(REFRESH_PREFIX) or len(token) > _MAX_REFRESH_LENGTH:
            raise InvalidRefreshToken
        token_hash = self.hash_refresh(token)
        now = self.clock.now()
        failure: str | None = None
        pair: TokenPair | None = None
        signer = await self.keys.signer()
        async with self.database.transaction(write=True) as db:
            sessions = SessionRepository(db)
            record = await sessions.claim_refresh_token(token_hash, now)
            if record is None:
                failure = await self._unusable_refresh(db, token_hash, client)
            else:
                session_id = record.id
                # Raising here rolls the claim back: a limited refresh leaves its token unspent.
                await self.limiter.hit(
                    self.settings.rate_limit_refresh_session, "refresh-session", str(session_id)
                )
                if record.ended_at is not None:
                    failure = "session ended"
                else:
                    problem = state_of(record, self._idle).problem(now)
                    if problem in ("session_expired", "session_idle"):
                        await sessions.end([session_id], now, problem)
                        after_commit(db, _ended(self.cache, session_id, problem))
                        failure = problem
                    elif problem is not None:
                        # The account (not the session) is the obstacle, perhaps only for a while
                        # (a lock): leave the refresh token unspent.
                        await db.rollback()
                        failure = problem
                    else:
                        refresh = random_token(REFRESH_PREFIX)
                        await sessions.insert_refresh_token(
                            session_id,
                            record.organisation_id,
                            self.hash_refresh(refresh),
                            now,
                            touch_session=True,
                        )
                        pair = self.pair(
                            signer,
                            refresh,
                            session_id,
                            record.user_id,
                            record.organisation_id,
                            record.roles,
                            record.must_change_password,
                            record.expires_at,
                        )
                        state = state_of(replace(record, last_seen_at=now), self._idle)
                        after_commit(db, lambda: self.cache.changed([state]))
        if pair is None:
            log.info("refresh_refused", reason=failure, ip=client.ip)
            if failure == "unknown":  # guessing at tokens: slow it down per address
                await self.limiter.hit(
                    self.settings.rate_limit_login_ip, "refresh-ip", client.ip or "unknown"
                )
            raise InvalidRefreshToken
        return pair

    async def _unusable_refresh(self, db: AsyncSession, token_hash: str, client: ClientInfo) -> str:
        sessions = SessionRepository(db)
        known = await sessions.find_refresh_token(token_hash)
        if known is None:
            return "unknown"
        session_id, organisation_id = known
        now = self.clock.now()
        ended = await sessions.end([session_id], now, "refresh_token_reuse")
        record = await sessions.get_record(session_id)
        reuse = DetectedAnomaly(
            AnomalyType.REFRESH_TOKEN_REUSE,
            user_id=record.user_id if record else None,
            organisation_id=organisation_id,
            session_id=session_id,
            details={
                "ip": client.ip,
                "device": device_label(client.user_agent),
                "session_revoked": bool(ended),
            },
        )
        await raise_anomaly(db, reuse, now)
        after_commit(db, _ended(self.cache, session_id, "refresh_token_reuse"))
        return "reused"

    async def session_of_refresh_token(self, db: AsyncSession, token: str) -> Session | None:
        """The session a current (not yet rotated) refresh token belongs to; the token stays unspent."""
        if not token.startswith(REFRESH_PREFIX) or len(token) > _MAX_REFRESH_LENGTH:
            return None
        session_id = await SessionRepository(db).current_refresh_session(self.hash_refresh(token))
        return None if session_id is None else await db.get(Session, session_id)

    # -- ending sessions -----------------------------------------------------------------------

    async def end_own_session(
        self, db: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID, actor: Actor
    ) -> None:
        """End a session of ``user_id``; another user's session is not found (404), not forbidden."""
        session = await SessionRepository(db).get_for_user(session_id, user_id)
        if session is None:
            raise NotFound("No such session.")
        await self.end_sessions(db, [session.id], "user_revoked", actor=actor)

    async def end_sessions(
        self,
        db: AsyncSession,
        session_ids: list[uuid.UUID],
        reason: str,
        *,
        actor: Actor | None = None,
        note: str | None = None,
    ) -> list[uuid.UUID]:
        """End sessions in the caller's transaction; caches everywhere learn of it after commit.

        With an ``actor``, each ended session is also an audit event (revocations by a person).
        """
        ended = await SessionRepository(db).end(session_ids, self.clock.now(), reason)
        if ended:
            after_commit(db, lambda: self.cache.ended(ended, reason))
        if actor is not None:
            for session_id in ended:
                session = await db.get(Session, session_id)
                await record(
                    db,
                    actor,
                    "session.revoked",
                    organisation_id=session.organisation_id if session else None,
                    target=("session", str(session_id)),
                    after={
                        "reason": reason,
                        "note": note,
                        "user_id": str(session.user_id) if session else None,
                    },
                )
        return ended

    async def end_user_sessions(
        self,
        db: AsyncSession,
        user_id: uuid.UUID,
        reason: str,
        *,
        keep: uuid.UUID | None = None,
        actor: Actor | None = None,
    ) -> list[uuid.UUID]:
        ids = [sid for sid in await SessionRepository(db).active_ids(user_id) if sid != keep]
        return await self.end_sessions(db, ids, reason, actor=actor)

    def user_changed(self, db: AsyncSession, user_id: uuid.UUID) -> None:
        """After this transaction commits, re-read the user's sessions into the caches."""
        after_commit(db, lambda: self.refresh_user_states(user_id))

    async def refresh_user_states(self, user_id: uuid.UUID) -> None:
        """Re-read a user's active sessions (after a lock or status change) into the caches."""
        async with self.database.sessions() as db:
            sessions = SessionRepository(db)
            states: list[SessionState] = []
            for sid in await sessions.active_ids(user_id):
                record = await sessions.get_record(sid)
                if record is not None:
                    states.append(state_of(record, self._idle))
        await self.cache.changed(states)


def _ended(cache: SessionCache, session_id: uuid.UUID, reason: str) -> AfterCommit:
    async def hook() -> None:
        await cache.ended([session_id], reason)

    return hook
