"""What identity needs from features above it, as named interfaces they implement.

Blocking, deleting or changing a user ends or refreshes that user's sessions; the sessions feature does
that work (``garrison.sessions.service.SessionService`` satisfies :class:`UserSessions`), and the
application hands it in. Identity never imports the sessions package.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from garrison.events.service import Actor


class UserSessions(Protocol):
    async def end_user_sessions(
        self,
        db: AsyncSession,
        user_id: uuid.UUID,
        reason: str,
        *,
        keep: uuid.UUID | None = None,
        actor: Actor | None = None,
    ) -> list[uuid.UUID]:
        """End every active session of ``user_id`` (but ``keep``) in the caller's transaction."""
        ...

    def user_changed(self, db: AsyncSession, user_id: uuid.UUID) -> None:
        """After commit, re-read the user's sessions into the caches (roles, lock, expiry changed)."""
        ...
