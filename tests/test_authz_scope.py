"""The decision function and the tenant scope it hands out, without a server."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from garrison.authn.subject import ApiKeySubject, Principal
from garrison.authz.permissions import Permission
from garrison.authz.scope import OrgScope
from garrison.authz.service import Context, Denial, Resource, decide
from garrison.errors import NotFound
from garrison.models import User

SRC = Path(__file__).resolve().parent.parent / "src" / "garrison"


def _principal(*roles: str, organisation_id: uuid.UUID | None = None) -> Principal:
    now = datetime.now(UTC)
    return Principal(
        user_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        organisation_id=organisation_id or uuid.uuid4(),
        username="someone",
        roles=roles,
        token_expires_at=now,
        session_expires_at=now,
        must_change_password=False,
    )


def test_every_organisation_cannot_be_built_outside_a_decision() -> None:
    with pytest.raises(TypeError):
        OrgScope()
    with pytest.raises(TypeError):
        OrgScope(None, key=object())


def test_only_the_decision_module_holds_the_key() -> None:
    holders = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if re.search(r"\b_KEY\b", path.read_text()) and "authz.scope" in path.read_text()
    )
    assert holders == ["authz/service.py"]


def test_one_organisation_covers_itself_only() -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    scope = OrgScope.of(mine)
    assert scope.covers(mine)
    assert not scope.covers(theirs)
    assert not scope.covers(None)  # records of no organisation are for the scope of every one
    assert scope.narrow(None) == scope
    assert scope.narrow(mine) == scope
    with pytest.raises(NotFound):
        scope.narrow(theirs)
    assert "organisation_id" in str(scope.clause(User.organisation_id))


def test_root_is_granted_every_organisation_and_may_narrow() -> None:
    decision = decide(_principal("root_admin"), Permission.USERS_READ)
    assert decision.allowed
    assert decision.scope is not None
    assert decision.scope.everywhere
    assert decision.scope.covers(None)
    assert str(decision.scope.clause(User.organisation_id)) == "true"
    some = uuid.uuid4()
    assert decision.scope.narrow(some) == OrgScope.of(some)


def test_organisation_admin_is_granted_its_organisation() -> None:
    organisation = uuid.uuid4()
    decision = decide(_principal("org_admin", organisation_id=organisation), Permission.SESSIONS_READ)
    assert decision.allowed
    assert decision.scope == OrgScope.of(organisation)
    assert "org_admin" in decision.reason


def test_a_role_without_the_permission_is_denied_with_a_reason() -> None:
    decision = decide(_principal("user"), Permission.USERS_WRITE, context=Context("192.0.2.1"))
    assert not decision.allowed
    assert decision.denial is Denial.PERMISSION
    assert decision.scope is None
    assert decision.reason == "user does not grant users:write"


def test_resources_outside_the_scope_or_above_the_rank_are_denied() -> None:
    organisation = uuid.uuid4()
    admin = _principal("org_admin", organisation_id=organisation)
    elsewhere = Resource("user", "x", uuid.uuid4(), ("user",))
    assert decide(admin, Permission.USERS_WRITE, elsewhere).denial is Denial.SCOPE
    orphan = Resource("anomaly", "y", None)
    assert decide(admin, Permission.ANOMALIES_WRITE, orphan).denial is Denial.SCOPE
    higher = Resource("user", "z", organisation, ("root_admin",))
    assert decide(admin, Permission.USERS_BLOCK, higher).denial is Denial.RANK
    grant = Resource("role", "root_admin", organisation, ("root_admin",))
    assert decide(admin, Permission.USERS_WRITE, grant).denial is Denial.RANK
    peer = Resource("user", "p", organisation, ("org_admin",))
    allowed = decide(admin, Permission.USERS_BLOCK, peer)
    assert allowed.allowed
    assert allowed.scope == OrgScope.of(organisation)
    root = _principal("root_admin")
    assert decide(root, Permission.ANOMALIES_WRITE, orphan).allowed
    assert decide(
        root, Permission.USERS_WRITE, Resource("role", "root_admin", organisation, ("root_admin",))
    ).allowed


def test_a_program_may_do_what_its_key_scopes_name_in_its_organisation() -> None:
    organisation = uuid.uuid4()
    key = ApiKeySubject(key_id=uuid.uuid4(), organisation_id=organisation, user_id=None, scopes=("agent",))
    allowed = decide(key, "agent")
    assert allowed.allowed
    assert allowed.scope == OrgScope.of(organisation)
    denied = decide(key, Permission.USERS_READ)
    assert denied.denial is Denial.PERMISSION
    assert decide(key, "agent", Resource("user", "u", uuid.uuid4())).denial is Denial.SCOPE
