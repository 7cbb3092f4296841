"""``require(permission)``: the one entry point that guards every admin route."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from garrison.authn.deps import authenticate_ready
from garrison.authn.subject import DocumentedBearer, Principal, user_actor
from garrison.authz.permissions import Permission, rank_of
from garrison.authz.service import decide
from garrison.db import Database
from garrison.errors import Forbidden, NotFound
from garrison.events.service import Actor, record


class PermissionDenied(Forbidden):
    type = "permission-denied"
    title = "Permission denied"


@dataclass(frozen=True, slots=True)
class Admin:
    """An authorised caller of an admin route, with the reach of the permission it used."""

    principal: Principal
    actor: Actor
    # None: every organisation; otherwise only this one.
    organisation_id: uuid.UUID | None

    @property
    def rank(self) -> int:
        return rank_of(self.principal.roles)

    def organisation_filter(self, requested: uuid.UUID | None) -> uuid.UUID | None:
        """The organisation a listing covers: a root admin may pick one; others see only their own."""
        if self.organisation_id is None:
            return requested
        if requested is not None and requested != self.organisation_id:
            raise NotFound("No such organisation.")
        return self.organisation_id

    def can_see(self, organisation_id: uuid.UUID | None) -> bool:
        """Whether a record of ``organisation_id`` is within reach; records of none are root-only."""
        return self.organisation_id is None or self.organisation_id == organisation_id


def require(permission: Permission) -> Callable[[Request], Awaitable[Admin]]:
    """A dependency admitting callers whose roles grant ``permission``; denials are audited (403)."""

    async def dependency(request: Request, _documented: DocumentedBearer = None) -> Admin:
        principal = await authenticate_ready(request, None)
        actor = user_actor(request, principal)
        decision = decide(principal, permission)
        if not decision.allowed:
            database: Database = request.app.state.provided[Database]
            # The request fails, so the denial is recorded in a transaction of its own.
            async with database.transaction(write=True) as db:
                await record(
                    db,
                    actor,
                    "access.denied",
                    organisation_id=principal.organisation_id,
                    target=("route", request.url.path),
                    after={"permission": str(permission), "reason": decision.reason},
                    outcome="denied",
                )
            raise PermissionDenied(f"This needs the {permission} permission.")
        return Admin(principal=principal, actor=actor, organisation_id=decision.organisation_id)

    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    return dependency


# Admin routes: one alias per permission, each admitting only callers whose roles grant it.
UsersRead = Annotated[Admin, Depends(require(Permission.USERS_READ))]
UsersWrite = Annotated[Admin, Depends(require(Permission.USERS_WRITE))]
UsersBlock = Annotated[Admin, Depends(require(Permission.USERS_BLOCK))]
SessionsRead = Annotated[Admin, Depends(require(Permission.SESSIONS_READ))]
SessionsRevoke = Annotated[Admin, Depends(require(Permission.SESSIONS_REVOKE))]
AuditRead = Annotated[Admin, Depends(require(Permission.AUDIT_READ))]
AnalyticsRead = Annotated[Admin, Depends(require(Permission.ANALYTICS_READ))]
AnomaliesRead = Annotated[Admin, Depends(require(Permission.ANOMALIES_READ))]
AnomaliesWrite = Annotated[Admin, Depends(require(Permission.ANOMALIES_WRITE))]
ApiKeysRead = Annotated[Admin, Depends(require(Permission.API_KEYS_READ))]
ApiKeysWrite = Annotated[Admin, Depends(require(Permission.API_KEYS_WRITE))]
