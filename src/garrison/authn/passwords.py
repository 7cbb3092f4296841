"""Password hashing: argon2id, legacy bcrypt hashes verified and upgraded on login.

Hashing runs in worker threads behind a semaphore: never on the event loop, and a login flood cannot
take every thread from the requests that only validate tokens.
"""

from __future__ import annotations

import asyncio
import secrets
import unicodedata

import anyio.to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from garrison.config import Settings

# A generous bound on a password as typed; the password policy applies when one is set, not when tried.
MAX_PASSWORD_INPUT = 1024
BCRYPT_MAX_BYTES = 72


class LegacyBcryptHasher(BcryptHasher):
    """Verifies legacy bcrypt hashes as the original implementations did: on the first 72 bytes.

    bcrypt only ever used the first 72 bytes of a password (Provos and Mazières, "A Future-Adaptable
    Password Scheme", 1999; OpenBSD ``bcrypt(3)``), and the systems these hashes come from truncated
    silently. The ``bcrypt`` package now raises on a longer password instead, which made such a login
    a 500. Truncating is the only answer that matches what the hash holds: refusing would lock out for
    good a user whose legacy password was longer, and it admits no password the legacy system did not.
    A successful verification upgrades the hash to argon2id, which then checks every byte.
    """

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        raw = password.encode() if isinstance(password, str) else password
        return super().verify(raw[:BCRYPT_MAX_BYTES], hash)


class PasswordHasher:
    def __init__(self, settings: Settings) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.argon2_time_cost,
                    memory_cost=settings.argon2_memory_cost,
                    parallelism=settings.argon2_parallelism,
                ),
                LegacyBcryptHasher(),
            )
        )
        self._slots = asyncio.Semaphore(settings.password_hash_concurrency)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await anyio.to_thread.run_sync(self._hash.hash, password)

    async def warm_up(self) -> None:
        """Compute the dummy hash before the first login, so that one is not slower than the rest."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))

    async def verify_dummy(self, password: str) -> None:
        """Spend the work of a real verification, so unknown users answer exactly like wrong passwords."""
        await self.warm_up()
        assert self._dummy_hash is not None
        await self.verify_and_update(password, self._dummy_hash)

    async def verify_and_update(self, password: str, stored: str) -> tuple[bool, str | None]:
        """Check ``password`` (normalised here); on an outdated hash, also return its argon2id replacement."""
        async with self._slots:
            return await anyio.to_thread.run_sync(
                self._hash.verify_and_update, normalize_password(password), stored
            )


def normalize_password(password: str) -> str:
    """NFKC, as when the password was set (NIST SP 800-63B §5.1.1.2): composed and decomposed forms match."""
    return unicodedata.normalize("NFKC", password)
