"""Signing keys: Ed25519 (EdDSA, RFC 8037), stored encrypted, published as JWKS (RFC 7517), rotated.

Ed25519 over ES256: deterministic signatures (no per-signature nonce to get wrong), small keys and
tokens, fast verification, and no curve or parameter choices to validate.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import text

from garrison.config import Settings
from garrison.db import Database
from garrison.events.service import SYSTEM, Actor, record
from garrison.keys.repository import SigningKeyRepository
from garrison.kit.clock import Clock
from garrison.kit.crypto import derive_key, seal, unseal
from garrison.models import SigningKey

ALGORITHM = "EdDSA"
log = structlog.get_logger("garrison.keys")
_KEYS_LOCK_KEY = 0x6761727269736F6B


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(kid: str, public: Ed25519PublicKey) -> dict[str, Any]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw), "kid": kid, "alg": ALGORITHM, "use": "sig"}


@dataclass(frozen=True, slots=True)
class Signer:
    kid: str
    private_key: Ed25519PrivateKey


class KeyStore:
    """The process's view of the signing keys, reloaded from the database (the truth) as needed."""

    def __init__(self, database: Database, settings: Settings, clock: Clock) -> None:
        self._database = database
        self._settings = settings
        self._clock = clock
        self._wrap_key = derive_key(settings.secret(), "signing-key-encryption")
        self._signer: Signer | None = None
        self._public: dict[str, Ed25519PublicKey] = {}
        self._jwks: dict[str, Any] = {"keys": []}
        self._loaded_at = float("-inf")
        self.version: object = object()

    # Keys published after rotation must cover tokens signed by instances that have not reloaded yet.
    def _retirement_window(self) -> timedelta:
        settings = self._settings
        return timedelta(
            seconds=settings.access_token_ttl + settings.token_leeway + settings.key_reload_interval + 60
        )

    def _new_key(self) -> SigningKey:
        kid = secrets.token_urlsafe(12)
        private = Ed25519PrivateKey.generate()
        raw = private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return SigningKey(
            kid=kid,
            algorithm=ALGORITHM,
            public_jwk=public_jwk(kid, private.public_key()),
            private_key_encrypted=seal(self._wrap_key, raw, kid.encode()),
            created_at=self._clock.now(),
        )

    async def ensure_key(self) -> None:
        """Create the first signing key if none is published (first start, or after a reset)."""
        async with self._database.transaction(write=True) as db:
            if self._database.engine.dialect.name == "postgresql":
                await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _KEYS_LOCK_KEY})
            repo = SigningKeyRepository(db)
            if not any(key.retired_at is None for key in await repo.published(self._clock.now())):
                key = await repo.add(self._new_key())
                await record(db, SYSTEM, "key.created", organisation_id=None, target=("signing_key", key.kid))
        await self.reload()

    async def rotate(self, actor: Actor) -> str:
        """Add a key that signs from now on; earlier keys stay published until their tokens expire."""
        now = self._clock.now()
        async with self._database.transaction(write=True) as db:
            repo = SigningKeyRepository(db)
            await repo.retire_active(now, now + self._retirement_window())
            key = await repo.add(self._new_key())
            await record(db, actor, "key.rotated", organisation_id=None, target=("signing_key", key.kid))
        await self.reload()
        return key.kid

    async def reload(self) -> None:
        async with self._database.transaction() as db:
            keys = await SigningKeyRepository(db).published(self._clock.now())
        public: dict[str, Ed25519PublicKey] = {}
        signer: Signer | None = None
        for key in keys:
            try:
                raw = unseal(self._wrap_key, key.private_key_encrypted, key.kid.encode())
            except (InvalidTag, ValueError):
                # Sealed under another SECRET_KEY: unusable here. Its tokens fail; a new key takes over.
                log.error("signing_key_undecryptable", kid=key.kid, hint="was GARRISON_SECRET_KEY changed?")
                continue
            private = Ed25519PrivateKey.from_private_bytes(raw)
            public[key.kid] = private.public_key()
            if signer is None and key.retired_at is None:
                signer = Signer(key.kid, private)
        if set(public) != set(self._public):
            self.version = object()  # verified-token caches start afresh when the key set changes
        self._public = public
        self._signer = signer
        self._jwks = {"keys": [public_jwk(kid, key) for kid, key in public.items()]}
        self._loaded_at = time.monotonic()

    def _stale(self, seconds: float) -> bool:
        return time.monotonic() - self._loaded_at > seconds

    async def signer(self) -> Signer:
        if self._signer is None or self._stale(self._settings.key_reload_interval):
            await self.reload()
        if self._signer is None:
            await self.ensure_key()  # first use on a new database, or no usable key
        if self._signer is None:
            await self.rotate(SYSTEM)  # the active key cannot be decrypted with this SECRET_KEY
        assert self._signer is not None
        return self._signer

    async def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """The key for ``kid``; an unknown kid triggers a reload at most every few seconds."""
        key = self._public.get(kid)
        if key is None and self._stale(5):
            await self.reload()
            key = self._public.get(kid)
        return key

    async def jwks(self) -> dict[str, Any]:
        if self._stale(self._settings.key_reload_interval):
            await self.reload()
        return self._jwks
