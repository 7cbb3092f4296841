"""User governance: what an administrator may do, to whom, and what the audit trail keeps.

Reach rules: an administrator acts only inside the organisations their permission covers (anything
else is 404), never on a holder of a role ranked above their own, never grants a role above their own,
and never blocks, deletes or demotes themself or the last root administrator.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from garrison.authn.passwords import PasswordHasher
from garrison.authz.deps import Admin
from garrison.authz.errors import BeyondReach
from garrison.authz.permissions import BUILTIN_ROLES, rank_of
from garrison.authz.service import Denial, Resource
from garrison.config import Settings
from garrison.errors import Conflict, NotFound, ValidationFailed
from garrison.events.service import record
from garrison.identity.account import effective_status, profile_values
from garrison.identity.ports import UserSessions
from garrison.identity.repository import UserFilters, UserRepository
from garrison.identity.schemas import AdminUserCreate, AdminUserRow, AdminUserUpdate, UserSort
from garrison.identity.service import NewUser, create_user, describe
from garrison.kit.clock import Clock
from garrison.kit.crypto import generate_password
from garrison.kit.pagination import Order, Page, PageParams
from garrison.models import BuiltinRole, Organisation, User, UserRole, UserStatus


class LastRootAdmin(Conflict):
    type = "last-root-admin"
    title = "The last root administrator"


def user_resource(user: User) -> Resource:
    """The user as authorization sees it: where it belongs and the roles it holds."""
    return Resource("user", str(user.id), user.organisation_id, tuple(role.role for role in user.roles))


def _row(user: User, active_sessions: int, now: datetime) -> AdminUserRow:
    return AdminUserRow(
        id=user.id,
        username=user.username,
        email=user.email,
        full_name=user.full_name,
        organisation_id=user.organisation_id,
        roles=sorted(role.role for role in user.roles),
        status=effective_status(user, now),
        department=user.department,
        rank=user.rank,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        active_sessions=active_sessions,
    )


class AdminService:
    def __init__(
        self, settings: Settings, clock: Clock, hasher: PasswordHasher, sessions: UserSessions
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.hasher = hasher
        self.sessions = sessions

    @property
    def now(self) -> datetime:
        return self.clock.now()

    # -- reading ------------------------------------------------------------------------------

    async def list_users(
        self,
        db: AsyncSession,
        admin: Admin,
        filters: UserFilters,
        sort: UserSort,
        order: Order,
        paging: PageParams,
        organisation_id: uuid.UUID | None = None,
    ) -> Page[AdminUserRow]:
        now = self.now
        rows, total = await UserRepository(db).list_users(
            admin.scope.narrow(organisation_id),
            filters,
            sort,
            order,
            now,
            limit=paging.page_size,
            offset=paging.offset,
        )
        items = [_row(user, count, now) for user, count in rows]
        return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)

    async def visible_user(self, db: AsyncSession, admin: Admin, user_id: uuid.UUID) -> User:
        user = await UserRepository(db).get_live_in(admin.scope, user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    async def _target(
        self, db: AsyncSession, admin: Admin, user_id: uuid.UUID, *, self_ok: bool = False
    ) -> User:
        """A user the admin may act on: visible, not ranked above them, and (usually) not themself."""
        user = await self.visible_user(db, admin, user_id)
        if not self_ok and user.id == admin.principal.user_id:
            raise BeyondReach("Administrators cannot do this to their own account.")
        admin.enforce(
            user_resource(user), missing="No such user.", beyond="This user holds a role above yours."
        )
        return user

    async def user_within_reach(self, db: AsyncSession, admin: Admin, user_id: uuid.UUID) -> User:
        """A user the admin may act for (themself included): visible and not ranked above them."""
        return await self._target(db, admin, user_id, self_ok=True)

    def _check_roles(
        self, admin: Admin, roles: list[str], organisation_id: uuid.UUID
    ) -> tuple[BuiltinRole, ...]:
        unknown = [role for role in roles if role not in BUILTIN_ROLES]
        if unknown:
            raise ValidationFailed(f"Unknown role(s): {', '.join(sorted(unknown))}.")
        decision = admin.decide(Resource("role", ",".join(roles), organisation_id, tuple(roles)))
        if decision.denial is Denial.RANK:
            raise BeyondReach("You cannot grant a role above your own.")
        if decision.denial is Denial.GLOBAL_ROLE:
            raise BeyondReach("Only root administrators grant root_admin.")
        if not decision.allowed:
            raise NotFound("No such organisation.")
        return tuple(BuiltinRole(role) for role in dict.fromkeys(roles))

    async def _last_root_admin_guard(self, db: AsyncSession, user: User) -> None:
        """Refuse to take away the last root administrator who can act (active, not deleted).

        A blocked or deleted holder of the role is not counted, so acting on one never trips this.
        """
        holds = any(role.role == BuiltinRole.ROOT_ADMIN for role in user.roles)
        counted = holds and user.deleted_at is None and user.status is UserStatus.ACTIVE
        if counted and await UserRepository(db).count_root_admins() <= 1:
            raise LastRootAdmin("This is the last root administrator; appoint another first.")

    # -- creating and editing -----------------------------------------------------------------

    async def create_user(self, db: AsyncSession, admin: Admin, body: AdminUserCreate) -> tuple[User, str]:
        roles = self._check_roles(admin, body.roles, body.organisation_id or admin.principal.organisation_id)
        organisation = await self._organisation(db, admin, body.organisation_id)
        password = generate_password()
        profile = profile_values(body, self.settings, only_set=False)
        profile["account_expires_at"] = body.account_expires_at
        user = await create_user(
            db,
            self.hasher,
            organisation,
            NewUser(body.username, body.email, password, roles, must_change_password=True, profile=profile),
            actor=admin.actor,
            min_password_length=self.settings.password_min_length,
        )
        loaded = await UserRepository(db).get_live(user.id)
        assert loaded is not None
        return loaded, password

    async def _organisation(
        self, db: AsyncSession, admin: Admin, requested: uuid.UUID | None
    ) -> Organisation:
        organisation_id = requested or admin.principal.organisation_id
        admin.enforce(
            Resource("organisation", str(organisation_id), organisation_id), missing="No such organisation."
        )
        organisation = await db.get(Organisation, organisation_id)
        if organisation is None:
            raise NotFound("No such organisation.")
        return organisation

    async def update_user(
        self, db: AsyncSession, admin: Admin, user_id: uuid.UUID, body: AdminUserUpdate
    ) -> User:
        user = await self._target(db, admin, user_id, self_ok=True)
        changes = profile_values(body, self.settings, only_set=True)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if "account_expires_at" in body.model_fields_set:
            changes["account_expires_at"] = body.account_expires_at
        for key, value in changes.items():
            before[key], after[key] = _plain(getattr(user, key)), _plain(value)
            setattr(user, key, value)
        if body.roles is not None:
            roles = self._check_roles(admin, body.roles, user.organisation_id)
            current = sorted(role.role for role in user.roles)
            wanted = sorted(str(role) for role in roles)
            if current != wanted:
                if user.id == admin.principal.user_id and rank_of(wanted) < rank_of(current):
                    raise BeyondReach("Administrators cannot demote themselves.")
                if BuiltinRole.ROOT_ADMIN in current and BuiltinRole.ROOT_ADMIN not in wanted:
                    await self._last_root_admin_guard(db, user)
                user.roles = [UserRole(role=role, organisation_id=user.organisation_id) for role in wanted]
                before["roles"], after["roles"] = current, wanted
        await db.flush()
        if "account_expires_at" in changes or "roles" in after:
            self.sessions.user_changed(db, user.id)
        if after:
            await record(
                db,
                admin.actor,
                "user.updated",
                organisation_id=user.organisation_id,
                target=("user", str(user.id)),
                before=before,
                after=after,
            )
        return user

    # -- governance ---------------------------------------------------------------------------

    async def block(self, db: AsyncSession, admin: Admin, user_id: uuid.UUID, reason: str) -> User:
        """Block: new logins are refused and every session ends now, on every instance."""
        user = await self._target(db, admin, user_id)
        await self._last_root_admin_guard(db, user)
        was = str(user.status)
        user.status = UserStatus.BLOCKED
        user.blocked_reason = reason
        await db.flush()
        ended = await self.sessions.end_user_sessions(db, user.id, "user_blocked")
        await record(
            db,
            admin.actor,
            "user.blocked",
            organisation_id=user.organisation_id,
            target=("user", str(user.id)),
            before={"status": was},
            after={"status": "blocked", "reason": reason, "sessions_ended": len(ended)},
        )
        return user

    async def unblock(self, db: AsyncSession, admin: Admin, user_id: uuid.UUID) -> User:
        user = await self._target(db, admin, user_id)
        was = str(user.status)
        user.status = UserStatus.ACTIVE
        user.blocked_reason = None
        await db.flush()
        await record(
            db,
            admin.actor,
            "user.unblocked",
            organisation_id=user.organisation_id,
            target=("user", str(user.id)),
            before={"status": was},
            after={"status": "active"},
        )
        return user

    async def unlock(self, db: AsyncSession, admin: Admin, user_id: uuid.UUID) -> User:
        user = await self._target(db, admin, user_id, self_ok=True)
        before = {"locked_until": _plain(user.locked_until), "failed_login_count": user.failed_login_count}
        await UserRepository(db).clear_lockout(user.id)
        await db.refresh(user)
        self.sessions.user_changed(db, user.id)
        await record(
            db,
            admin.actor,
            "user.unlocked",
            organisation_id=user.organisation_id,
            target=("user", str(user.id)),
            before=before,
            after={"locked_until": None, "failed_login_count": 0},
        )
        return user

    async def delete(self, db: AsyncSession, admin: Admin, user_id: uuid.UUID) -> None:
        """Soft delete: sessions end, login is refused, the row and its history stay."""
        user = await self._target(db, admin, user_id)
        await self._last_root_admin_guard(db, user)
        user.deleted_at = self.now
        await db.flush()
        await self.sessions.end_user_sessions(db, user.id, "user_deleted")
        await record(
            db,
            admin.actor,
            "user.deleted",
            organisation_id=user.organisation_id,
            target=("user", str(user.id)),
            before=describe(user, tuple(role.role for role in user.roles)),
        )

    async def revoke_all_sessions(self, db: AsyncSession, admin: Admin, user_id: uuid.UUID) -> int:
        user = await self._target(db, admin, user_id, self_ok=True)
        ended = await self.sessions.end_user_sessions(db, user.id, "admin_revoked", actor=admin.actor)
        return len(ended)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
