"""Login, refresh-token rotation, logout and revocation.

Login and refresh run their own transactions instead of the request's: a failed attempt must be
committed (failure counter, lockout, attempt record, anomaly) even though the request ends in an
error, and password hashing must happen while no database lock is held.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from garrison.audit.service import Actor, record
from garrison.config import SessionLimitPolicy, Settings
from garrison.db import AfterCommit, Database, after_commit
from garrison.errors import NotFound
from garrison.identity.passwords import PasswordHasher
from garrison.identity.repository import UserRepository, login_key
from garrison.keys.service import KeyStore, Signer
from garrison.kit.clock import Clock
from garrison.kit.crypto import derive_key, keyed_hash, random_token
from garrison.kit.useragent import device_label
from garrison.models import Session, UserStatus
from garrison.security.ratelimit import RateLimiter
from garrison.security.repository import AccountAtLogin, LockoutRepository, LoginAccount
from garrison.security.service import AnomalyType, ClientInfo, DetectedAnomaly, raise_anomaly, record_attempt
from garrison.sessions.errors import InvalidCredentials, InvalidRefreshToken, TooManySessions
from garrison.sessions.repository import Elsewhere, SessionRepository
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

    def _hash_refresh(self, token: str) -> str:
        return keyed_hash(self._refresh_key, token)

    # -- login ---------------------------------------------------------------------------------

    async def login(self, login: str, password: str, client: ClientInfo) -> TokenPair:
        """Authenticate with a username or email and a password (ASVS V2.2, lockout V2.2.1)."""
        settings = self.settings
        await self.limiter.hit(settings.rate_limit_login_ip, "login-ip", client.ip or "unknown")
        # The key the account is looked up by (NFKC, case-folded): one bucket per account, however spelt.
        await self.limiter.hit(settings.rate_limit_login_username, "login-user", login_key(login)[1])
        now = self.clock.now()
        # One conditional UPDATE (a SELECT after it only reads a locked account): no transaction needed.
        async with self.database.statement() as db:
            account = await LockoutRepository(db).reserve_attempt(login, now, settings.lockout_threshold)
        if account is None or not account.reserved or account.password_hash is None:
            await self.hasher.verify_dummy(password)
            if account is None:
                reason = "unknown_user"
            else:
                reason = "locked" if not account.reserved else "no_password"
            await self._failed(login, client, reason, account)
            raise InvalidCredentials

        try:
            ok, upgraded_hash = await self.hasher.verify_and_update(password, account.password_hash)
        except Exception:
            # The attempt is already counted: record it (and lock if due) so the counter and the
            # attempts agree, then let the error be reported.
            await self._failed(login, client, "verify_error", account, count_failure=True)
            raise
        if not ok:
            await self._failed(login, client, "bad_password", account, count_failure=True)
            raise InvalidCredentials

        # Before the write transaction: a first use may have to create the key in a transaction of its own.
        signer = await self.keys.signer()
        async with self.database.transaction(write=True) as db:
            outcome = await self._open_session(db, signer, account.id, upgraded_hash, login, client)
            if isinstance(outcome, str):
                await record_attempt(
                    db,
                    client,
                    now,
                    username_tried=login,
                    success=False,
                    reason=outcome,
                    user_id=account.id,
                    organisation_id=account.organisation_id,
                )
        if outcome == "session_limit":
            raise TooManySessions(
                f"This account already has {settings.max_sessions_per_user} active sessions."
            )
        if isinstance(outcome, str):
            raise InvalidCredentials
        return outcome

    def _status_refusal(self, account: AccountAtLogin) -> str | None:
        # LockoutRepository.succeed stamps last_login_at under the same conditions, in SQL.
        if account.deleted_at is not None:
            return "deleted"
        if account.status is UserStatus.BLOCKED:
            return "blocked"
        if account.account_expires_at is not None and self.clock.now() >= account.account_expires_at:
            return "expired"
        return None

    async def _failed(
        self,
        login: str,
        client: ClientInfo,
        reason: str,
        user: LoginAccount | None,
        *,
        count_failure: bool = False,
    ) -> None:
        now = self.clock.now()
        settings = self.settings
        if user is not None and count_failure:
            # Its own transaction: nothing recorded afterwards can undo a lock the counter has earned.
            until = now + timedelta(seconds=settings.lockout_duration)
            async with self.database.transaction(write=True) as db:
                if await LockoutRepository(db).lock_if_exhausted(user.id, settings.lockout_threshold, until):
                    reason = "bad_password_locked"
                    lockout = DetectedAnomaly(
                        AnomalyType.LOCKOUT,
                        user_id=user.id,
                        organisation_id=user.organisation_id,
                        details={
                            "ip": client.ip,
                            "locked_until": until.isoformat(),
                            "failures": settings.lockout_threshold,
                        },
                    )
                    await raise_anomaly(db, lockout, now)
                    after_commit(db, lambda: self._refresh_user_states(user.id))
        # The attempt, its audit event and the analytics rollups: one statement on PostgreSQL.
        async with self.database.statement() as db:
            await record_attempt(
                db,
                client,
                now,
                username_tried=login,
                success=False,
                reason=reason,
                user_id=user.id if user else None,
                organisation_id=user.organisation_id if user else None,
            )

    async def _open_session(
        self,
        db: AsyncSession,
        signer: Signer,
        user_id: uuid.UUID,
        upgraded_hash: str | None,
        login: str,
        client: ClientInfo,
    ) -> TokenPair | str:
        """Create the session and its tokens; or the reason not to (account state, session limit)."""
        now = self.clock.now()
        settings = self.settings
        sessions = SessionRepository(db)
        ended: list[uuid.UUID] = []
        limit = settings.max_sessions_per_user
        active = await sessions.count_active(user_id, now) if limit else 0
        refuse_new = active >= limit and settings.session_limit_policy == SessionLimitPolicy.REFUSE_NEW
        label = device_label(client.user_agent)
        here = Elsewhere(client.ip, label)
        # The password was right: the failure count starts again, whatever else happens. Without a
        # session limit, the sessions elsewhere are read in the same statement where the engine can.
        user = await LockoutRepository(db).succeed(
            user_id, now, stamp_login=not (limit and refuse_new), client=None if limit else here
        )
        refusal = self._status_refusal(user)
        if refusal is not None:
            return refusal
        if limit and active >= limit:
            if refuse_new:
                return "session_limit"
            oldest = await sessions.oldest_active(user_id, now, active - limit + 1)
            ended = await sessions.end(oldest, now, "session_limit")
        # Only a few other sessions are read, whatever the user's number of sessions.
        others = user.others
        if others is None:
            others = tuple(await sessions.active_elsewhere(user_id, now, here))
        users = UserRepository(db)
        if upgraded_hash is not None:  # a legacy (bcrypt) or outdated hash, now argon2id
            await users.replace_password_hash(user_id, upgraded_hash)
        refresh = random_token(REFRESH_PREFIX)
        expires_at = now + timedelta(seconds=settings.session_absolute_timeout)
        session_id, rows = sessions.new_session(
            user_id=user_id,
            organisation_id=user.organisation_id,
            now=now,
            expires_at=expires_at,
            ip=client.ip,
            user_agent=(client.user_agent or "")[:512] or None,
            device_label=label,
            refresh_token_hash=self._hash_refresh(refresh),
        )
        if others:
            concurrent = DetectedAnomaly(
                AnomalyType.CONCURRENT_LOGIN,
                user_id=user_id,
                organisation_id=user.organisation_id,
                details={
                    "ip": client.ip,
                    "device": label,
                    "other_sessions": [
                        {"session_id": str(s.id), "ip": s.ip, "device": s.device_label} for s in others
                    ],
                },
            )
            rows += concurrent.rows(now)
        # The session, any anomaly, the attempt, its audit event and rollups: one statement on PostgreSQL.
        await record_attempt(
            db,
            client,
            now,
            username_tried=login,
            success=True,
            reason=None,
            user_id=user_id,
            organisation_id=user.organisation_id,
            session_id=session_id,
            before=rows,
        )
        if ended:
            after_commit(db, lambda: self.cache.ended(ended, "session_limit"))
        roles = user.roles if user.roles is not None else await users.role_names(user_id)
        return self._pair(
            signer,
            refresh,
            session_id,
            user_id,
            user.organisation_id,
            roles,
            user.must_change_password,
            expires_at,
        )

    def _pair(
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
        token_hash = self._hash_refresh(token)
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
                            self._hash_refresh(refresh),
                            now,
                            touch_session=True,
                        )
                        pair = self._pair(
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
        session_id = await SessionRepository(db).current_refresh_session(self._hash_refresh(token))
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
        after_commit(db, lambda: self._refresh_user_states(user_id))

    async def _refresh_user_states(self, user_id: uuid.UUID) -> None:
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
