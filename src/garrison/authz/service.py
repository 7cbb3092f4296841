"""One decision point for access: ``decide(subject, action, resource, context) -> Decision``.

The inputs are data: who asks (a user and its roles, or a program and its API key's scopes), what
for (an action: a permission, or an API key scope), on what
(a :class:`Resource`: its type, id, organisation and, for a user or what belongs to one, the holder's
roles) and where from (a :class:`Context`). The built-in role table is the first source of grants; the
rules over resources are a tuple of plain functions, so attribute policies and custom roles join as
more sources and rules rather than as checks scattered through the features. Every answer says why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from garrison.authn.subject import ApiKeySubject, Principal, Subject
from garrison.authz.permissions import BUILTIN_ROLES, RoleDefinition, Scope, rank_of
from garrison.authz.scope import _KEY, OrgScope


class Denial(StrEnum):
    """Why a decision denies: callers answer 403 for a missing permission or rank, 404 out of scope."""

    PERMISSION = "permission"
    SCOPE = "scope"
    RANK = "rank"
    GLOBAL_ROLE = "global_role"


@dataclass(frozen=True, slots=True)
class Resource:
    """What an action is on. ``roles``: the roles of the user it is (or belongs to); for a ``role``
    resource (granting roles), the roles granted."""

    type: str
    id: str | None = None
    organisation_id: uuid.UUID | None = None
    roles: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """The environment of a request, for policies over it (network, time of day)."""

    client_address: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    # Where the action is allowed: set when allowed, None when denied.
    scope: OrgScope | None = None
    denial: Denial | None = None


def _deny(denial: Denial, reason: str) -> Decision:
    return Decision(False, reason, None, denial)


def _role_table(
    subject: Principal, action: str, roles: Mapping[str, RoleDefinition] = BUILTIN_ROLES
) -> Decision:
    """Allow when a role of the subject grants ``action``; the widest scope wins. Deny by default."""
    granting = [roles[role] for role in subject.roles if role in roles and action in roles[role].permissions]
    if not granting:
        held = ", ".join(sorted(subject.roles)) or "no role"
        return _deny(Denial.PERMISSION, f"{held} does not grant {action}")
    best = max(granting, key=lambda role: role.scope is Scope.GLOBAL)
    if best.scope is Scope.GLOBAL:
        return Decision(True, f"role {best.name!r} grants {action} everywhere", OrgScope(key=_KEY))
    return Decision(
        True,
        f"role {best.name!r} grants {action} in its organisation",
        OrgScope.of(subject.organisation_id),
    )


def _key_scopes(subject: ApiKeySubject, action: str) -> Decision:
    """A program may do what its key's scopes name, in the key's organisation only."""
    if action not in subject.scopes:
        return _deny(Denial.PERMISSION, f"the API key lacks the {action} scope")
    return Decision(
        True, f"the API key's {action} scope, in its organisation", OrgScope.of(subject.organisation_id)
    )


# A rule over a resource: a denial, or None to let the next rule speak.
Rule = Callable[[Subject, OrgScope, Resource, Context], Decision | None]


def _within_scope(subject: Subject, scope: OrgScope, resource: Resource, context: Context) -> Decision | None:
    if scope.covers(resource.organisation_id):
        return None
    return _deny(Denial.SCOPE, f"{resource.type} {resource.id or ''} is outside the subject's organisations")


def _not_outranked(
    subject: Subject, scope: OrgScope, resource: Resource, context: Context
) -> Decision | None:
    """Never act on a holder of a higher role, nor grant one (a program holds no role)."""
    held = subject.roles if isinstance(subject, Principal) else ()
    if resource.roles is None or rank_of(resource.roles) <= rank_of(held):
        return None
    verb = "grants" if resource.type == "role" else "holds"
    return _deny(Denial.RANK, f"the {resource.type} {verb} a role ranked above the subject's")


def _global_roles_from_global_subjects(
    subject: Subject, scope: OrgScope, resource: Resource, context: Context
) -> Decision | None:
    """A role that applies everywhere is granted only by a subject whose own reach is everywhere."""
    if resource.type != "role" or scope.everywhere:
        return None
    wide = sorted(
        r for r in resource.roles or () if r in BUILTIN_ROLES and BUILTIN_ROLES[r].scope is Scope.GLOBAL
    )
    if not wide:
        return None
    return _deny(Denial.GLOBAL_ROLE, f"only a subject of global scope grants {', '.join(wide)}")


RULES: tuple[Rule, ...] = (_within_scope, _not_outranked, _global_roles_from_global_subjects)


def decide(
    subject: Subject,
    action: str,
    resource: Resource | None = None,
    context: Context | None = None,
) -> Decision:
    """May ``subject`` do ``action`` (on ``resource``, in ``context``)? Allowed decisions carry the scope."""
    grant = _role_table(subject, action) if isinstance(subject, Principal) else _key_scopes(subject, action)
    if not grant.allowed or resource is None:
        return grant
    assert grant.scope is not None
    for rule in RULES:
        denial = rule(subject, grant.scope, resource, context or Context())
        if denial is not None:
            return denial
    return Decision(True, f"{grant.reason}; the {resource.type} is within reach", grant.scope)
