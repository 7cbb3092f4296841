"""Answers for workstation agents, authenticated by an API key with the ``agent`` scope."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from garrison.agents.schemas import ClientStatus
from garrison.apikeys.errors import InvalidApiKey
from garrison.authn.subject import ApiKeySubject
from garrison.config import Settings
from garrison.identity.account import effective_status
from garrison.identity.repository import UserRepository
from garrison.kit.clock import Clock
from garrison.security.ratelimit import RateLimiter

# States in which the agent locks the workstation. "locked" (a lockout after failed passwords) is not
# one of them: otherwise anyone could lock a user out of their machine by guessing wrong five times.
BLOCKING_STATES = frozenset({"blocked", "expired", "deleted"})


class AgentService:
    def __init__(self, settings: Settings, clock: Clock, limiter: RateLimiter) -> None:
        self.settings = settings
        self.clock = clock
        self.limiter = limiter

    async def client_status(self, db: AsyncSession, key: ApiKeySubject) -> ClientStatus:
        """The account state of the user the presented agent key is bound to, and of no one else."""
        await self.limiter.hit(self.settings.rate_limit_api_key, "api-key", str(key.key_id))
        user = await UserRepository(db).get(key.user_id) if key.user_id is not None else None
        if user is None:
            raise InvalidApiKey("The API key is not bound to a user.")
        now = self.clock.now()
        status = effective_status(user, now)
        return ClientStatus(
            username=user.username, is_blocked=status in BLOCKING_STATES, status=status, checked_at=now
        )
