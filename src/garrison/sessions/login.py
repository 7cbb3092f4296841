"""The password login, as a flow of steps (:mod:`garrison.authn.flow`): identify the account, check
its password, run any further factor the account requires, then open the session.

Login runs its own transactions instead of the request's: a failed attempt must be committed (failure
counter, lockout, attempt record, anomaly) even though the request ends in an error, and password
hashing happens while no database lock is held.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authn.flow import IdentifiedAccount, Login, LoginRefused, LoginStep, run_steps
from garrison.authn.subject import ClientInfo
from garrison.config import SessionLimitPolicy
from garrison.db import after_commit
from garrison.identity.repository import UserRepository
from garrison.keys.service import Signer
from garrison.kit.crypto import random_token
from garrison.kit.useragent import device_label
from garrison.models.states import MAY_LOG_IN, account_state
from garrison.security.repository import AccountAtLogin, Elsewhere, LockoutRepository, login_key
from garrison.security.service import AnomalyType, DetectedAnomaly, raise_anomaly, record_attempt
from garrison.sessions.errors import InvalidCredentials, TooManySessions
from garrison.sessions.repository import SessionRepository
from garrison.sessions.service import REFRESH_PREFIX, SessionService, TokenPair


class LoginFlow:
    """``identify -> password -> further factors -> open session``; ``factors`` are the steps after
    the password (second factors), run in order for every login that gets that far."""

    def __init__(self, sessions: SessionService, factors: Sequence[LoginStep] = ()) -> None:
        self.sessions = sessions
        self.settings = sessions.settings
        self.clock = sessions.clock
        self.database = sessions.database
        self.hasher = sessions.hasher
        self.steps: tuple[LoginStep, ...] = (self.identify, self.password, *factors)

    async def login(self, login: str, password: str, client: ClientInfo) -> TokenPair:
        """Authenticate with a username or email and a password (ASVS V2.2, lockout V2.2.1)."""
        settings = self.settings
        limiter = self.sessions.limiter
        await limiter.hit(settings.rate_limit_login_ip, "login-ip", client.ip or "unknown")
        # The key the account is looked up by (NFKC, case-folded): one bucket per account, however spelt.
        await limiter.hit(settings.rate_limit_login_username, "login-user", login_key(login)[1])
        attempt = Login(login=login, secret=password, client=client, started_at=self.clock.now())
        try:
            await run_steps(self.steps, attempt)
        except LoginRefused as refused:
            if refused.spend_hash:
                await self.hasher.verify_dummy(password)
            await self._failed(attempt, refused)
            raise InvalidCredentials from None
        return await self.open_session(attempt)

    # -- steps ---------------------------------------------------------------------------------

    async def identify(self, login: Login) -> None:
        """Find the account and reserve this attempt against its failure limit, so parallel guesses
        cannot exceed it. One conditional UPDATE (a SELECT after it only reads a locked account)."""
        async with self.database.statement() as db:
            account = await LockoutRepository(db).reserve_attempt(
                login.login, login.started_at, self.settings.lockout_threshold
            )
        if account is None:
            raise LoginRefused("unknown_user", spend_hash=True)
        login.account = IdentifiedAccount(account.id, account.organisation_id, account.password_hash)
        if not account.reserved:
            raise LoginRefused("locked", spend_hash=True)
        if account.password_hash is None:
            raise LoginRefused("no_password", spend_hash=True)

    async def password(self, login: Login) -> None:
        """The first factor: the password against the stored hash (argon2id; bcrypt upgraded)."""
        stored = login.identified.password_hash
        assert stored is not None  # identify refused accounts without one
        try:
            ok, upgraded = await self.hasher.verify_and_update(login.secret, stored)
        except Exception:
            # The attempt is already counted: record it (and lock if due) so the counter and the
            # attempts agree, then let the error be reported.
            await self._failed(login, LoginRefused("verify_error", counts=True))
            raise
        if not ok:
            raise LoginRefused("bad_password", counts=True)
        login.methods.append("pwd")
        login.upgraded_hash = upgraded

    # -- outcomes ------------------------------------------------------------------------------

    async def _failed(self, login: Login, refused: LoginRefused) -> None:
        now = self.clock.now()
        settings = self.settings
        account = login.account
        reason = refused.reason
        if account is not None and refused.counts:
            # Its own transaction: nothing recorded afterwards can undo a lock the counter has earned.
            until = now + timedelta(seconds=settings.lockout_duration)
            async with self.database.transaction(write=True) as db:
                if await LockoutRepository(db).lock_if_exhausted(
                    account.id, settings.lockout_threshold, until
                ):
                    reason = f"{reason}_locked"
                    lockout = DetectedAnomaly(
                        AnomalyType.LOCKOUT,
                        user_id=account.id,
                        organisation_id=account.organisation_id,
                        details={
                            "ip": login.client.ip,
                            "locked_until": until.isoformat(),
                            "failures": settings.lockout_threshold,
                        },
                    )
                    await raise_anomaly(db, lockout, now)
                    user_id = account.id
                    after_commit(db, lambda: self.sessions.refresh_user_states(user_id))
        # The attempt, its audit event and the analytics rollups: one statement on PostgreSQL.
        async with self.database.statement() as db:
            await record_attempt(
                db,
                login.client,
                now,
                username_tried=login.login,
                success=False,
                reason=reason,
                user_id=account.id if account else None,
                organisation_id=account.organisation_id if account else None,
            )

    async def open_session(self, login: Login) -> TokenPair:
        """The last step: the session and its tokens, or a refusal for the account's state or the
        session limit, recorded with the attempt in the same transaction."""
        account = login.identified
        # Before the write transaction: a first use may have to create the key in a transaction of its own.
        signer = await self.sessions.keys.signer()
        async with self.database.transaction(write=True) as db:
            outcome = await self._open(db, signer, login)
            if isinstance(outcome, str):
                await record_attempt(
                    db,
                    login.client,
                    login.started_at,
                    username_tried=login.login,
                    success=False,
                    reason=outcome,
                    user_id=account.id,
                    organisation_id=account.organisation_id,
                )
        if outcome == "session_limit":
            raise TooManySessions(
                f"This account already has {self.settings.max_sessions_per_user} active sessions."
            )
        if isinstance(outcome, str):
            raise InvalidCredentials
        return outcome

    def _status_refusal(self, account: AccountAtLogin) -> str | None:
        """The account's state when it may not log in (LockoutRepository.succeed applies the same rule
        in SQL when it stamps last_login_at)."""
        state = account_state(account, self.clock.now())
        return None if state in MAY_LOG_IN else state.value

    async def _open(self, db: AsyncSession, signer: Signer, login: Login) -> TokenPair | str:
        """Create the session and its tokens; or the reason not to (account state, session limit)."""
        now = self.clock.now()
        settings = self.settings
        client = login.client
        user_id: uuid.UUID = login.identified.id
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
        if login.upgraded_hash is not None:  # a legacy (bcrypt) or outdated hash, now argon2id
            await users.replace_password_hash(user_id, login.upgraded_hash)
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
            refresh_token_hash=self.sessions.hash_refresh(refresh),
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
            username_tried=login.login,
            success=True,
            reason=None,
            user_id=user_id,
            organisation_id=user.organisation_id,
            session_id=session_id,
            before=rows,
        )
        if ended:
            cache = self.sessions.cache
            after_commit(db, lambda: cache.ended(ended, "session_limit"))
        roles = user.roles if user.roles is not None else await users.role_names(user_id)
        return self.sessions.pair(
            signer,
            refresh,
            session_id,
            user_id,
            user.organisation_id,
            roles,
            user.must_change_password,
            expires_at,
        )
