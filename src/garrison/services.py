"""The typed composition root: every shared object of one application, built once, in one place.

Routes reach these through ``garrison.deps.provide(Type)`` aliases, which look an object up by the type
its field declares here; no feature names another by a string.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from prometheus_client import CollectorRegistry

from garrison.agents.service import AgentService
from garrison.apikeys.authenticator import ApiKeyAuthenticator
from garrison.apikeys.service import ApiKeyService
from garrison.authn.authenticators import Authenticators
from garrison.authn.passwords import PasswordHasher
from garrison.cache import Cache
from garrison.config import Settings
from garrison.console.service import Console
from garrison.db import Database
from garrison.identity.admin_service import AdminService
from garrison.identity.ports import UserSessions
from garrison.keys.service import KeyStore
from garrison.kit.clock import Clock
from garrison.security.ratelimit import RateLimiter
from garrison.sessions.admin_service import SessionAdmin
from garrison.sessions.authenticator import SessionAuthenticator
from garrison.sessions.login import LoginFlow
from garrison.sessions.service import SessionService
from garrison.sessions.state import SessionCache
from garrison.sessions.tokens import VerifiedTokens


@dataclasses.dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    database: Database
    cache: Cache
    clock: Clock
    registry: CollectorRegistry
    keys: KeyStore
    verified_tokens: VerifiedTokens
    hasher: PasswordHasher
    session_cache: SessionCache
    limiter: RateLimiter
    sessions: SessionService
    logins: LoginFlow
    user_sessions: UserSessions
    user_admin: AdminService
    session_admin: SessionAdmin
    api_keys: ApiKeyService
    agents: AgentService
    authenticators: Authenticators
    console: Console

    @classmethod
    def build(cls, settings: Settings, database: Database, cache: Cache, clock: Clock) -> Services:
        keys = KeyStore(database, settings, clock)
        hasher = PasswordHasher(settings)
        session_cache = SessionCache(database, cache, settings)
        limiter = RateLimiter(settings)
        verified_tokens = VerifiedTokens()
        sessions = SessionService(database, settings, clock, keys, hasher, session_cache, limiter)
        user_admin = AdminService(settings, clock, hasher, sessions)
        api_keys = ApiKeyService(settings, clock, database, user_admin)
        authenticators = Authenticators(
            [
                SessionAuthenticator(keys, settings, clock, verified_tokens, session_cache),
                ApiKeyAuthenticator(api_keys, database),
            ]
        )
        return cls(
            settings=settings,
            database=database,
            cache=cache,
            clock=clock,
            registry=CollectorRegistry(),
            keys=keys,
            verified_tokens=verified_tokens,
            hasher=hasher,
            session_cache=session_cache,
            limiter=limiter,
            sessions=sessions,
            logins=LoginFlow(sessions),
            user_sessions=sessions,
            user_admin=user_admin,
            session_admin=SessionAdmin(user_admin, sessions),
            api_keys=api_keys,
            agents=AgentService(settings, clock, limiter),
            authenticators=authenticators,
            console=Console(settings.console_dir),
        )

    def by_type(self) -> dict[type[Any], Any]:
        """Each object under the type its field declares (a protocol, not the class behind it)."""
        hints = typing.get_type_hints(type(self))
        provided: dict[type[Any], Any] = {}
        for field in dataclasses.fields(self):
            kind = hints[field.name]
            if kind in provided:
                raise TypeError(f"two services of type {kind.__name__}")
            provided[kind] = getattr(self, field.name)
        return provided
