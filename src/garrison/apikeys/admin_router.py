"""``/api/v1/admin/api-keys``: issuing, listing, rotating and revoking API keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from garrison.apikeys.deps import ApiKeys
from garrison.apikeys.repository import KeyFilters
from garrison.apikeys.schemas import ApiKeyCreate, ApiKeyIssued, ApiKeyOut, ApiKeyStatus
from garrison.authz.deps import ApiKeysRead, ApiKeysWrite
from garrison.deps import DbSession
from garrison.kit.pagination import Page, Paging

router = APIRouter(prefix="/api/v1/admin/api-keys", tags=["admin: api keys"])


@router.get("", response_model=Page[ApiKeyOut])
async def list_api_keys(
    admin: ApiKeysRead,
    db: DbSession,
    keys: ApiKeys,
    paging: Paging,
    user_id: uuid.UUID | None = None,
    status_: Annotated[ApiKeyStatus | None, Query(alias="status")] = None,
    org_id: uuid.UUID | None = None,
) -> Page[ApiKeyOut]:
    """Keys newest first; never their secrets."""
    filters = KeyFilters(user_id=user_id, status=status_)
    return await keys.list(db, admin, filters, paging, org_id)


@router.post("", response_model=ApiKeyIssued, status_code=status.HTTP_201_CREATED)
async def create_api_key(
    body: ApiKeyCreate, admin: ApiKeysWrite, db: DbSession, keys: ApiKeys
) -> ApiKeyIssued:
    """Issue a key; its secret is in this answer only."""
    return await keys.create(db, admin, body)


@router.get("/{key_id}", response_model=ApiKeyOut)
async def get_api_key(key_id: uuid.UUID, admin: ApiKeysRead, db: DbSession, keys: ApiKeys) -> ApiKeyOut:
    return await keys.get(db, admin, key_id)


@router.post("/{key_id}/rotate", response_model=ApiKeyIssued)
async def rotate_api_key(
    key_id: uuid.UUID, admin: ApiKeysWrite, db: DbSession, keys: ApiKeys
) -> ApiKeyIssued:
    """Replace the key's secret; the old secret stops working at once."""
    return await keys.rotate(db, admin, key_id)


@router.post("/{key_id}/revoke", response_model=ApiKeyOut)
async def revoke_api_key(key_id: uuid.UUID, admin: ApiKeysWrite, db: DbSession, keys: ApiKeys) -> ApiKeyOut:
    """Revoke the key: requests presenting it fail from now on."""
    return await keys.revoke(db, admin, key_id)
