"""Domain-free secret helpers: generation and constant-time comparison."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def generate_password(length: int = 24) -> str:
    """A random password of ``length`` letters and digits (~143 bits at 24), easy to copy from a console."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def derive_key(secret: bytes, purpose: str) -> bytes:
    """A 256-bit key for one purpose, derived from the server secret with HKDF-SHA256 (RFC 5869)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"garrison:" + purpose.encode()).derive(
        secret
    )


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a secret token, hex: what is stored instead of the token itself."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def seal(key: bytes, plaintext: bytes, associated: bytes) -> str:
    """AES-256-GCM encryption bound to ``associated`` (e.g. a key id); returns ``v1.<base64url>``."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext, associated)
    return "v1." + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(key: bytes, token: str, associated: bytes) -> bytes:
    version, _, payload = token.partition(".")
    if version != "v1":
        raise ValueError(f"unknown sealed-box version {version!r}")
    raw = base64.urlsafe_b64decode(payload)
    return AESGCM(key).decrypt(raw[:12], raw[12:], associated)


def random_token(prefix: str, nbytes: int = 32) -> str:
    """``prefix`` + ``nbytes`` random bytes, base64url: recognisable in logs and secret scanners."""
    return prefix + secrets.token_urlsafe(nbytes)
