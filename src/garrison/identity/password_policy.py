"""The password policy (NIST SP 800-63B §3.1.1.2), applied whenever a password is set."""

from __future__ import annotations

import functools

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from garrison.authn.passwords import normalize_password
from garrison.identity.errors import WeakPassword

MAX_PASSWORD_LENGTH = 128


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's corpus (lower case)."""
    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_policy(password: str, *, min_length: int, username: str, email: str) -> str:
    """Apply the policy (NIST SP 800-63B §3.1.1.2) and return the NFKC-normalised password to hash."""
    normalized = normalize_password(password)
    if len(normalized) < min_length:
        raise WeakPassword("min_length", f"The password must be at least {min_length} characters long.")
    if len(normalized) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            "max_length", f"The password must be at most {MAX_PASSWORD_LENGTH} characters long."
        )
    folded = normalized.casefold()
    if folded in common_passwords():
        raise WeakPassword("common", "The password is one of the most commonly used passwords.")
    local_part = email.split("@", 1)[0].casefold()
    if username.casefold() in folded:
        raise WeakPassword("contains_username", "The password must not contain the username.")
    if len(local_part) >= 3 and local_part in folded:
        raise WeakPassword("contains_email", "The password must not contain the email address.")
    return normalized
