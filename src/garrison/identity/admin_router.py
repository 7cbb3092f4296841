"""``/api/v1/admin/users``: user governance."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from garrison.authz.deps import UsersBlock, UsersRead, UsersWrite
from garrison.deps import AppClock, DbSession
from garrison.identity.account import user_out
from garrison.identity.deps import AdminServices
from garrison.identity.repository import UserFilters
from garrison.identity.schemas import (
    AdminUserCreate,
    AdminUserCreated,
    AdminUserRow,
    AdminUserUpdate,
    BlockRequest,
    UserOut,
    UserSort,
)
from garrison.kit.pagination import Order, Page, Paging
from garrison.models.states import UserStatusFilter

router = APIRouter(prefix="/api/v1/admin/users", tags=["admin: users"])


@router.get("", response_model=Page[AdminUserRow])
async def list_users(
    admin: UsersRead,
    db: DbSession,
    service: AdminServices,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100, description="Username, email or name contains")] = None,
    status_: Annotated[UserStatusFilter | None, Query(alias="status")] = None,
    role: Annotated[str | None, Query(max_length=64)] = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
    org_id: uuid.UUID | None = None,
    sort: UserSort = UserSort.CREATED_AT,
    order: Order = Order.DESC,
) -> Page[AdminUserRow]:
    """Search, filter, sort and page through users."""
    filters = UserFilters(q=q, status=status_, role=role, department=department)
    return await service.list_users(db, admin, filters, sort, order, paging, org_id)


@router.post("", response_model=AdminUserCreated, status_code=status.HTTP_201_CREATED)
async def create_user(
    body: AdminUserCreate, admin: UsersWrite, db: DbSession, service: AdminServices, clock: AppClock
) -> AdminUserCreated:
    """Create a user with a temporary password, shown once and to be changed at first login."""
    user, password = await service.create_user(db, admin, body)
    return AdminUserCreated(user=user_out(user, clock.now()), temporary_password=password)


@router.get("/{user_id}", response_model=UserOut)
async def get_user(
    user_id: uuid.UUID, admin: UsersRead, db: DbSession, service: AdminServices, clock: AppClock
) -> UserOut:
    return user_out(await service.visible_user(db, admin, user_id), clock.now())


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(
    user_id: uuid.UUID,
    body: AdminUserUpdate,
    admin: UsersWrite,
    db: DbSession,
    service: AdminServices,
    clock: AppClock,
) -> UserOut:
    """Change profile fields, roles (never above your own) and account expiry."""
    return user_out(await service.update_user(db, admin, user_id, body), clock.now())


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_user(
    user_id: uuid.UUID, admin: UsersWrite, db: DbSession, service: AdminServices
) -> Response:
    """Soft delete: sessions end at once, login is refused, history is kept."""
    await service.delete(db, admin, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{user_id}/block", response_model=UserOut)
async def block_user(
    user_id: uuid.UUID,
    body: BlockRequest,
    admin: UsersBlock,
    db: DbSession,
    service: AdminServices,
    clock: AppClock,
) -> UserOut:
    """Block: every session of the user ends now, everywhere, and new logins are refused."""
    return user_out(await service.block(db, admin, user_id, body.reason), clock.now())


@router.post("/{user_id}/unblock", response_model=UserOut)
async def unblock_user(
    user_id: uuid.UUID, admin: UsersBlock, db: DbSession, service: AdminServices, clock: AppClock
) -> UserOut:
    return user_out(await service.unblock(db, admin, user_id), clock.now())


@router.post("/{user_id}/unlock", response_model=UserOut)
async def unlock_user(
    user_id: uuid.UUID, admin: UsersBlock, db: DbSession, service: AdminServices, clock: AppClock
) -> UserOut:
    """Clear a lockout caused by failed passwords."""
    return user_out(await service.unlock(db, admin, user_id), clock.now())


@router.post("/{user_id}/sessions/revoke-all")
async def revoke_all_sessions(
    user_id: uuid.UUID, admin: UsersBlock, db: DbSession, service: AdminServices
) -> dict[str, int]:
    """End every session of the user."""
    return {"revoked": await service.revoke_all_sessions(db, admin, user_id)}
