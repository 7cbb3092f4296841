"""The API-key authenticator: ``Authorization: Bearer gar_ak_...`` (RFC 6750 §2.1)."""

from __future__ import annotations

from fastapi import Request

from garrison.apikeys.service import KEY_PREFIX, ApiKeyService
from garrison.authn.subject import ApiKeySubject, Subject
from garrison.db import Database


class ApiKeyAuthenticator:
    produces: type[Subject] = ApiKeySubject

    def __init__(self, keys: ApiKeyService, database: Database) -> None:
        self.keys = keys
        self.database = database

    def recognises(self, credential: str) -> bool:
        return credential.startswith(KEY_PREFIX)

    async def authenticate(self, request: Request, credential: str) -> ApiKeySubject:
        async with self.database.transaction() as db:
            key = await self.keys.verify(db, credential)
        return ApiKeySubject(
            key_id=key.id, organisation_id=key.organisation_id, user_id=key.user_id, scopes=tuple(key.scopes)
        )
