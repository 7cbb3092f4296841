"""One decision point for access: ``decide(principal, permission) -> Decision`` with its reason."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from garrison.authn.subject import Principal
from garrison.authz.permissions import BUILTIN_ROLES, Permission, Scope


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    # Where the permission applies: None = every organisation; else only this one.
    organisation_id: uuid.UUID | None = None


def decide(principal: Principal, permission: Permission) -> Decision:
    """Allow when a role of the principal grants ``permission``; the widest scope wins. Deny by default."""
    granting = [
        BUILTIN_ROLES[role]
        for role in principal.roles
        if role in BUILTIN_ROLES and permission in BUILTIN_ROLES[role].permissions
    ]
    if not granting:
        held = ", ".join(sorted(principal.roles)) or "no role"
        return Decision(False, f"{held} does not grant {permission}")
    best = max(granting, key=lambda role: role.scope is Scope.GLOBAL)
    if best.scope is Scope.GLOBAL:
        return Decision(True, f"role {best.name!r} grants {permission} everywhere")
    return Decision(
        True,
        f"role {best.name!r} grants {permission} in its organisation",
        organisation_id=principal.organisation_id,
    )
