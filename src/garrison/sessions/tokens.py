"""Access tokens: JWTs per RFC 9068 (``typ: at+jwt``), signed with EdDSA (RFC 8037), verified strictly.

Verification follows RFC 8725 (JWT BCP): the algorithm is pinned, keys come only from our key store
(``jku``/``jwk``/``x5u``/``x5c`` headers are never consulted), ``crit`` is refused since we understand
no extensions, every segment must be canonical base64url (RFC 7515 §2), and ``iss``/``aud``/``exp``/
``iat``/``nbf`` are checked against settings and the injected clock.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from garrison.authn.errors import InvalidToken
from garrison.config import Settings
from garrison.keys.service import ALGORITHM, KeyStore, Signer
from garrison.kit.clock import Clock

TOKEN_TYPE = "at+jwt"  # noqa: S105 (RFC 9068 media type)
MAX_TOKEN_LENGTH = 4096
_ACCEPTED_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_MAX_TIMESTAMP = 253_402_300_800  # 10000-01-01: beyond it datetime cannot represent the claim
_REQUIRED = ("iss", "aud", "sub", "sid", "jti", "iat", "exp", "org")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    organisation_id: uuid.UUID
    roles: tuple[str, ...]
    jti: str
    issued_at: datetime
    expires_at: datetime


def issue_access_token(
    signer: Signer,
    settings: Settings,
    clock: Clock,
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
    organisation_id: uuid.UUID,
    roles: tuple[str, ...],
) -> tuple[str, int]:
    """Sign a new access token; returns it and its lifetime in seconds."""
    now = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.token_audience,
        "sub": str(user_id),
        "sid": str(session_id),
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + settings.access_token_ttl,
        "org": str(organisation_id),
        "roles": list(roles),
    }
    token = jwt.encode(
        claims, signer.private_key, algorithm=ALGORITHM, headers={"kid": signer.kid, "typ": TOKEN_TYPE}
    )
    return token, settings.access_token_ttl


def canonical_base64url(segment: str) -> bool:
    """Whether ``segment`` is base64url as RFC 7515 §2 defines it, in its one canonical spelling.

    RFC 4648 §5 alphabet with the padding omitted, and (RFC 4648 §3.5) the unused bits of the last
    character zero: a decoder that accepts ``=`` or other bits would let one token be spelt many ways.
    """
    if not _BASE64URL.fullmatch(segment) or len(segment) % 4 == 1:
        return False
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error:
        return False
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") == segment


def _uuid_claim(payload: dict[str, Any], name: str) -> uuid.UUID:
    value = payload.get(name)
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidToken(f"The '{name}' claim is malformed.")


class VerifiedTokens:
    """Tokens whose signature and claims already verified, so a repeat costs a dict lookup.

    Safe because a token is immutable and its expiry is re-checked on every use; whether its session
    is still alive is asked of the session cache each time. Cleared when the published keys change.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._claims: OrderedDict[str, AccessClaims] = OrderedDict()
        self._keys_version: object = None

    def get(self, token: str, keys_version: object) -> AccessClaims | None:
        if keys_version is not self._keys_version:
            self._claims.clear()
            self._keys_version = keys_version
            return None
        return self._claims.get(token)

    def put(self, token: str, claims: AccessClaims) -> None:
        self._claims[token] = claims
        if len(self._claims) > self._size:
            self._claims.popitem(last=False)


async def verify_access_token(
    token: str, keys: KeyStore, settings: Settings, clock: Clock, cache: VerifiedTokens | None = None
) -> AccessClaims:
    """Verify an access token (RFC 9068 §4, RFC 8725 §3); repeats are answered from ``cache``."""
    if cache is not None:
        known = cache.get(token, keys.version)
        if known is not None:
            if clock.now().timestamp() >= known.expires_at.timestamp() + settings.token_leeway:
                raise InvalidToken("The access token has expired.")
            return known
    claims = await _verify(token, keys, settings, clock)
    if cache is not None:
        cache.put(token, claims)
    return claims


async def _verify(token: str, keys: KeyStore, settings: Settings, clock: Clock) -> AccessClaims:
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise InvalidToken("The access token is malformed.")
    if not all(canonical_base64url(part) for part in token.split(".")):
        raise InvalidToken("The access token is not canonical base64url (RFC 7515 §2).")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise InvalidToken("The access token is malformed.") from None
    if header.get("alg") != ALGORITHM:
        raise InvalidToken("The token's algorithm is not accepted.")
    if not isinstance(header.get("typ"), str) or header["typ"].lower() not in _ACCEPTED_TYPES:
        raise InvalidToken("The token is not an access token (typ must be at+jwt).")
    if "crit" in header:
        raise InvalidToken("The token has critical header parameters this server does not understand.")
    kid = header.get("kid")
    key = await keys.public_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken("The token was not signed by a key of this server.")
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.issuer,
            # Time is checked below against the injected clock.
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": list(_REQUIRED),
            },
        )
    except jwt.InvalidAudienceError:
        raise InvalidToken("The token is meant for another audience.") from None
    except jwt.InvalidIssuerError:
        raise InvalidToken("The token was issued by another issuer.") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("The token's signature does not verify.") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("The access token is invalid.") from None

    exp, iat = payload.get("exp"), payload.get("iat")
    if not all(isinstance(v, int) and 0 <= v < _MAX_TIMESTAMP for v in (exp, iat)):
        raise InvalidToken("The token's time claims are malformed.")
    assert isinstance(exp, int)
    assert isinstance(iat, int)
    now = clock.now().timestamp()
    if now >= exp + settings.token_leeway:
        raise InvalidToken("The access token has expired.")
    if iat > now + settings.token_leeway:
        raise InvalidToken("The token was issued in the future.")
    if "nbf" in payload:
        # RFC 7519 §4.1.5: not before this instant, with the leeway allowed for exp.
        nbf = payload["nbf"]
        if not (isinstance(nbf, int) and not isinstance(nbf, bool) and 0 <= nbf < _MAX_TIMESTAMP):
            raise InvalidToken("The token's time claims are malformed.")
        if now < nbf - settings.token_leeway:
            raise InvalidToken("The access token is not valid yet.")
    roles = payload.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("The 'roles' claim is malformed.")
    return AccessClaims(
        user_id=_uuid_claim(payload, "sub"),
        session_id=_uuid_claim(payload, "sid"),
        organisation_id=_uuid_claim(payload, "org"),
        roles=tuple(roles),
        jti=str(payload["jti"]),
        issued_at=datetime.fromtimestamp(iat, UTC),
        expires_at=datetime.fromtimestamp(exp, UTC),
    )
