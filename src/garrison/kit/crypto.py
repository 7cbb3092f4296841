"""Domain-free secret helpers: generation and constant-time comparison."""

from __future__ import annotations

import hmac
import secrets
import string

_PASSWORD_ALPHABET = string.ascii_letters + string.digits


def generate_password(length: int = 24) -> str:
    """A random password of ``length`` letters and digits (~143 bits at 24), easy to copy from a console."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    left = a.encode() if isinstance(a, str) else a
    right = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(left, right)
