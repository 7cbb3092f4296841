"""Issuing, listing, rotating and revoking API keys, and authenticating a program that presents one.

A key is ``gar_ak_`` + 256 random bits (base64url). Garrison stores an HMAC-SHA256 of it under a key
derived from ``SECRET_KEY`` and compares through that hash, so a database leak reveals no usable key.
Keys are presented as ``Authorization: Bearer <key>`` (RFC 6750 §2.1).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from garrison.apikeys.errors import InvalidApiKey
from garrison.apikeys.repository import ApiKeyRepository, KeyFilters
from garrison.apikeys.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyOut,
    ApiKeyScope,
    ApiKeyStatus,
    KeyUser,
)
from garrison.authz.deps import Admin
from garrison.authz.service import Resource
from garrison.config import Settings
from garrison.db import Database
from garrison.errors import Conflict, NotFound, ValidationFailed
from garrison.events.service import record
from garrison.identity.admin_service import AdminService
from garrison.kit.clock import Clock
from garrison.kit.crypto import derive_key, keyed_hash, random_token
from garrison.kit.pagination import Page, PageParams
from garrison.models import ApiKey

KEY_PREFIX = "gar_ak_"
_SHOWN_PREFIX = len(KEY_PREFIX) + 5
_MAX_KEY_LENGTH = 128
# last_used_at is written at most this often per key.
_TOUCH_INTERVAL = timedelta(seconds=60)


def key_status(key: ApiKey, now: datetime) -> ApiKeyStatus:
    if key.revoked_at is not None:
        return ApiKeyStatus.REVOKED
    if key.expires_at is not None and key.expires_at <= now:
        return ApiKeyStatus.EXPIRED
    return ApiKeyStatus.ACTIVE


def _describe(key: ApiKey) -> dict[str, object]:
    """What the audit trail keeps of a key: never the secret or its hash."""
    return {
        "name": key.name,
        "key_prefix": key.key_prefix,
        "scopes": list(key.scopes),
        "user_id": str(key.user_id) if key.user_id else None,
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
    }


class ApiKeyService:
    def __init__(self, settings: Settings, clock: Clock, database: Database, admin: AdminService) -> None:
        self.clock = clock
        self.database = database
        self.admin = admin
        self._hash_key = derive_key(settings.secret(), "api-key")

    def _hash(self, key: str) -> str:
        return keyed_hash(self._hash_key, key)

    def _new_secret(self, key: ApiKey) -> str:
        secret = random_token(KEY_PREFIX)
        key.key_hash = self._hash(secret)
        key.key_prefix = secret[:_SHOWN_PREFIX]
        return secret

    async def _out(self, db: AsyncSession, keys: list[ApiKey]) -> list[ApiKeyOut]:
        names = await ApiKeyRepository(db).usernames({k.user_id for k in keys if k.user_id is not None})
        now = self.clock.now()
        return [
            ApiKeyOut(
                id=key.id,
                name=key.name,
                key_prefix=key.key_prefix,
                scopes=list(key.scopes),
                organisation_id=key.organisation_id,
                user=KeyUser(id=key.user_id, username=names[key.user_id])
                if key.user_id is not None and key.user_id in names
                else None,
                status=key_status(key, now),
                created_at=key.created_at,
                created_by=key.created_by,
                expires_at=key.expires_at,
                rotated_at=key.rotated_at,
                last_used_at=key.last_used_at,
                revoked_at=key.revoked_at,
            )
            for key in keys
        ]

    # -- administration ------------------------------------------------------------------------

    async def create(self, db: AsyncSession, admin: Admin, body: ApiKeyCreate) -> ApiKeyIssued:
        now = self.clock.now()
        if body.expires_at is not None and body.expires_at <= now:
            raise ValidationFailed("expires_at must be in the future.")
        scopes = sorted(set(body.scopes))
        if body.user_id is not None:
            user = await self.admin.user_within_reach(db, admin, body.user_id)
            if body.organisation_id is not None and body.organisation_id != user.organisation_id:
                raise ValidationFailed("A key bound to a user belongs to the user's organisation.")
            organisation_id = user.organisation_id
        elif ApiKeyScope.AGENT in scopes:
            raise ValidationFailed("An agent key must be bound to a user (user_id).")
        else:
            organisation_id = body.organisation_id or admin.principal.organisation_id
            admin.enforce(
                Resource("organisation", str(organisation_id), organisation_id),
                missing="No such organisation.",
            )
        key = ApiKey(
            id=uuid.uuid4(),
            organisation_id=organisation_id,
            user_id=body.user_id,
            name=body.name,
            scopes=[str(scope) for scope in scopes],
            created_at=now,
            created_by=admin.principal.user_id,
            expires_at=body.expires_at,
        )
        secret = self._new_secret(key)
        await ApiKeyRepository(db).add(key)
        await record(
            db,
            admin.actor,
            "api_key.create",
            organisation_id=organisation_id,
            target=("api_key", str(key.id)),
            after=_describe(key),
        )
        (out,) = await self._out(db, [key])
        return ApiKeyIssued(api_key=out, key=secret)

    async def list(
        self,
        db: AsyncSession,
        admin: Admin,
        filters: KeyFilters,
        paging: PageParams,
        organisation_id: uuid.UUID | None = None,
    ) -> Page[ApiKeyOut]:
        keys, total = await ApiKeyRepository(db).list(
            admin.scope.narrow(organisation_id),
            filters,
            self.clock.now(),
            limit=paging.page_size,
            offset=paging.offset,
        )
        items = await self._out(db, keys)
        return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)

    async def _visible(self, db: AsyncSession, admin: Admin, key_id: uuid.UUID) -> ApiKey:
        key = await ApiKeyRepository(db).get_in(admin.scope, key_id)
        if key is None:
            raise NotFound("No such API key.")
        return key

    async def get(self, db: AsyncSession, admin: Admin, key_id: uuid.UUID) -> ApiKeyOut:
        (out,) = await self._out(db, [await self._visible(db, admin, key_id)])
        return out

    async def rotate(self, db: AsyncSession, admin: Admin, key_id: uuid.UUID) -> ApiKeyIssued:
        """A new secret for the same key: the old secret stops working at once."""
        key = await self._visible(db, admin, key_id)
        now = self.clock.now()
        if key_status(key, now) is not ApiKeyStatus.ACTIVE:
            raise Conflict("Only an active key can be rotated; issue a new one.")
        before = key.key_prefix
        secret = self._new_secret(key)
        key.rotated_at = now
        await db.flush()
        await record(
            db,
            admin.actor,
            "api_key.rotate",
            organisation_id=key.organisation_id,
            target=("api_key", str(key.id)),
            before={"key_prefix": before},
            after={"key_prefix": key.key_prefix},
        )
        (out,) = await self._out(db, [key])
        return ApiKeyIssued(api_key=out, key=secret)

    async def revoke(self, db: AsyncSession, admin: Admin, key_id: uuid.UUID) -> ApiKeyOut:
        key = await self._visible(db, admin, key_id)
        if key.revoked_at is not None:
            raise Conflict("This API key is already revoked.")
        key.revoked_at = self.clock.now()
        key.revoked_by = admin.principal.user_id
        await db.flush()
        await record(
            db,
            admin.actor,
            "api_key.revoke",
            organisation_id=key.organisation_id,
            target=("api_key", str(key.id)),
            before={"status": "active"},
            after={"status": "revoked"},
        )
        (out,) = await self._out(db, [key])
        return out

    # -- authentication ------------------------------------------------------------------------

    async def verify(self, db: AsyncSession, presented: str) -> ApiKey:
        """The active key ``presented`` is (RFC 6750 §3.1 ``invalid_token`` otherwise)."""
        if not presented.startswith(KEY_PREFIX) or len(presented) > _MAX_KEY_LENGTH:
            raise InvalidApiKey
        # The lookup is by a keyed hash of the whole key, so no comparison leaks timing about it.
        key = await ApiKeyRepository(db).by_hash(self._hash(presented))
        now = self.clock.now()
        if key is None or key_status(key, now) is not ApiKeyStatus.ACTIVE:
            raise InvalidApiKey
        if key.last_used_at is None or key.last_used_at < now - _TOUCH_INTERVAL:
            async with self.database.transaction(write=True) as writer:
                await ApiKeyRepository(writer).touch(key.id, now, now - _TOUCH_INTERVAL)
        return key
