"""Permissions and the built-in roles that grant them: data, read by one decision function.

A role's ``rank`` orders roles for delegation: an administrator can grant, and act on holders of,
only roles ranked no higher than their own best role. ``scope`` says where a role's permissions apply:
``global`` (every organisation) or ``organisation`` (the holder's own).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Permission(StrEnum):
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    USERS_BLOCK = "users:block"
    SESSIONS_READ = "sessions:read"
    SESSIONS_REVOKE = "sessions:revoke"
    AUDIT_READ = "audit:read"
    ANALYTICS_READ = "analytics:read"
    ANOMALIES_READ = "anomalies:read"
    ANOMALIES_WRITE = "anomalies:write"
    API_KEYS_READ = "api_keys:read"
    API_KEYS_WRITE = "api_keys:write"


class Scope(StrEnum):
    GLOBAL = "global"
    ORGANISATION = "organisation"


@dataclass(frozen=True, slots=True)
class RoleDefinition:
    name: str
    rank: int
    scope: Scope
    permissions: frozenset[Permission]
    description: str


ADMINISTRATION = frozenset(Permission)

BUILTIN_ROLES: dict[str, RoleDefinition] = {
    role.name: role
    for role in (
        RoleDefinition("root_admin", 100, Scope.GLOBAL, ADMINISTRATION, "Administers every organisation."),
        RoleDefinition(
            "org_admin", 50, Scope.ORGANISATION, ADMINISTRATION, "Administers their organisation."
        ),
        RoleDefinition(
            "user", 0, Scope.ORGANISATION, frozenset(), "Uses applications; manages only themself."
        ),
    )
}


def rank_of(roles: tuple[str, ...] | list[str]) -> int:
    """The highest rank among ``roles`` (unknown roles rank lowest)."""
    return max((BUILTIN_ROLES[r].rank for r in roles if r in BUILTIN_ROLES), default=-1)


def permissions_of(roles: tuple[str, ...] | list[str]) -> list[str]:
    """Every permission ``roles`` grant (wherever they apply), sorted: what a UI may offer."""
    granted = {p for r in roles if r in BUILTIN_ROLES for p in BUILTIN_ROLES[r].permissions}
    return sorted(str(p) for p in granted)
