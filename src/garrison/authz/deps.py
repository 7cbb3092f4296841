"""``require(permission)``: the one entry point that guards every admin route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from garrison.authn.deps import authenticate_ready
from garrison.authn.subject import DocumentedBearer, Principal, user_actor
from garrison.authz.errors import BeyondReach, PermissionDenied
from garrison.authz.permissions import Permission
from garrison.authz.scope import OrgScope
from garrison.authz.service import Context, Decision, Denial, Resource, decide
from garrison.db import Database
from garrison.errors import NotFound
from garrison.events.service import Actor, record
from garrison.kit.clock import Clock


@dataclass(frozen=True, slots=True)
class Admin:
    """An authorised caller of an admin route: the permission it used, and where that applies."""

    principal: Principal
    actor: Actor
    permission: Permission
    scope: OrgScope
    context: Context

    def decide(self, resource: Resource) -> Decision:
        """The decision for this caller's permission on ``resource`` (reach and rank included)."""
        return decide(self.principal, self.permission, resource, self.context)

    def enforce(self, resource: Resource, *, missing: str, beyond: str | None = None) -> None:
        """Raise unless the decision on ``resource`` allows: out of scope is 404 (``missing``), a
        holder or grant of a higher role 403 (``beyond``, else the decision's reason)."""
        decision = self.decide(resource)
        if decision.allowed:
            return
        if decision.denial is Denial.SCOPE:
            raise NotFound(missing)
        raise BeyondReach(beyond or decision.reason[:1].upper() + decision.reason[1:] + ".")


def require(permission: Permission) -> Callable[[Request], Awaitable[Admin]]:
    """A dependency admitting callers whose roles grant ``permission``; denials are audited (403)."""

    async def dependency(request: Request, _documented: DocumentedBearer = None) -> Admin:
        principal = await authenticate_ready(request, None)
        actor = user_actor(request, principal)
        clock: Clock = request.app.state.provided[Clock]
        context = Context(client_address=actor.ip, at=clock.now())
        decision = decide(principal, permission, context=context)
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
        assert decision.scope is not None
        return Admin(principal, actor, permission, decision.scope, context)

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
