"""Username and email rules, and the keys that make them unique case-insensitively."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from garrison.identity.errors import InvalidEmail, InvalidUsername

USERNAME_RE = re.compile(r"[A-Za-z0-9._-]{3,64}")


def normalize_username(username: str) -> tuple[str, str]:
    """Validate a username; return it as given and its lookup key (case-folded).

    ASCII only: look-alike letters from other scripts would let two names that read the same coexist.
    """
    if not USERNAME_RE.fullmatch(username):
        raise InvalidUsername("A username is 3 to 64 characters: letters, digits, '.', '_' or '-'.")
    return username, username.lower()


def normalize_email(email: str) -> tuple[str, str]:
    """Validate and normalise an email address (RFC 5321/6531 via email-validator); return it and its key."""
    try:
        result = validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from None
    normalized = result.normalized
    return normalized, unicodedata.normalize("NFKC", normalized).casefold()
