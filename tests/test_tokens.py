"""Access-token verification against forged, tampered and malformed tokens (RFC 8725, RFC 9068).

Every rejection must be a 401 ``application/problem+json`` with ``error="invalid_token"`` in the
challenge; positive controls prove each forging helper can produce a token the server accepts, so a
rejection is caused by the one thing a case changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import FastAPI

from garrison.errors import PROBLEM_CONTENT_TYPE
from garrison.events.service import SYSTEM
from garrison.keys.service import KeyStore, Signer
from garrison.kit.clock import FrozenClock
from tests.conftest import Accounts, bearer

SESSION = "/api/v1/auth/session"
JWKS = "/.well-known/jwks.json"
ISSUER = "http://127.0.0.1:8000"
AUDIENCE = "garrison"

# Changes a forged token's header and claims in place, before it is signed.
Mutation = Callable[[dict[str, Any], dict[str, Any]], object]


# -- helpers -------------------------------------------------------------------------------------


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def segment(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A compact JWS's header and claims, unverified."""
    header, payload, _ = token.split(".")
    decoded_header: dict[str, Any] = json.loads(b64url_decode(header))
    claims: dict[str, Any] = json.loads(b64url_decode(payload))
    return decoded_header, claims


def forge(header: dict[str, Any], claims: dict[str, Any], key: Ed25519PrivateKey | None) -> str:
    """A compact JWS with exactly this header and these claims, Ed25519-signed by ``key`` (or unsigned)."""
    signing_input = f"{segment(header)}.{segment(claims)}"
    signature = key.sign(signing_input.encode()) if key is not None else b""
    return f"{signing_input}.{b64url(signature)}"


def forge_hmac(header: dict[str, Any], claims: dict[str, Any], secret: bytes, digest: str) -> str:
    signing_input = f"{segment(header)}.{segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), getattr(hashlib, digest)).digest()
    return f"{signing_input}.{b64url(mac)}"


def auth(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def public_jwk(key: Ed25519PublicKey, kid: str) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": kid, "alg": "EdDSA", "use": "sig"}


def assert_invalid_token(response: httpx.Response, type_suffix: str = "invalid-token") -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "Traceback" not in response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == 401
    assert body["type"] == f"urn:garrison:problem:{type_suffix}"
    return body


async def probe(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get(SESSION, headers=auth(token))


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
async def tokens(accounts: Accounts) -> dict[str, Any]:
    """A real login's token response: a valid token, a live session."""
    await accounts.create(username="tess")
    return await accounts.login("tess")


@pytest.fixture
async def other_tokens(accounts: Accounts) -> dict[str, Any]:
    """A second user's valid tokens, to splice from."""
    await accounts.create(username="otto")
    return await accounts.login("otto")


@pytest.fixture
async def signer(app: FastAPI) -> Signer:
    """The server's current signing key: forgeries signed with it verify cryptographically."""
    keys: KeyStore = app.state.services.keys
    return await keys.signer()


@pytest.fixture
def attacker_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


async def server_public_jwk(client: httpx.AsyncClient, kid: str) -> dict[str, Any]:
    response = await client.get(JWKS)
    assert response.status_code == 200
    (jwk,) = [key for key in response.json()["keys"] if key["kid"] == kid]
    return dict(jwk)


# -- positive controls ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_untampered_token_is_accepted_with_any_scheme_case(
    client: httpx.AsyncClient, tokens: dict[str, Any], scheme: str
) -> None:
    response = await client.get(SESSION, headers=auth(tokens["access_token"], scheme))
    assert response.status_code == 200, response.text
    assert response.json()["session_id"] == tokens["session_id"]


SERVER_SIGNED_ACCEPTED = [
    pytest.param(lambda h, c: None, id="unchanged"),
    pytest.param(lambda h, c: h.update(typ="application/at+jwt"), id="typ-application-at+jwt"),
    pytest.param(lambda h, c: h.update(typ="AT+JWT"), id="typ-upper-case"),
    # Key-locating headers are never consulted (RFC 8725 §3.10): a token the server signed stays valid.
    pytest.param(lambda h, c: h.update(jku="http://127.0.0.1:1/jwks"), id="jku-ignored"),
    pytest.param(lambda h, c: h.update(x5u="http://127.0.0.1:1/cert.pem"), id="x5u-ignored"),
    pytest.param(
        lambda h, c: h.update(jwk=public_jwk(Ed25519PrivateKey.generate().public_key(), "attacker")),
        id="foreign-jwk-ignored",
    ),
]


@pytest.mark.parametrize("mutate", SERVER_SIGNED_ACCEPTED)
async def test_server_signed_forgery_without_a_defect_is_accepted(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer, mutate: Mutation
) -> None:
    """Controls for the forging helper: what it builds with the server key and no defect verifies."""
    header, claims = parts(tokens["access_token"])
    assert header["kid"] == signer.kid
    mutate(header, claims)
    response = await probe(client, forge(header, claims, signer.private_key))
    assert response.status_code == 200, response.text
    assert response.json()["session_id"] == tokens["session_id"]


# -- algorithm confusion -------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_unsigned_alg_none_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], alg: str
) -> None:
    header, claims = parts(tokens["access_token"])
    header["alg"] = alg
    token = forge(header, claims, None)
    assert token.endswith(".")
    assert_invalid_token(await probe(client, token))


async def test_missing_alg_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer
) -> None:
    header, claims = parts(tokens["access_token"])
    del header["alg"]
    assert_invalid_token(await probe(client, forge(header, claims, signer.private_key)))


def _raw_public(jwk: dict[str, Any]) -> bytes:
    return b64url_decode(jwk["x"])


def _pem_public(jwk: dict[str, Any]) -> bytes:
    return Ed25519PublicKey.from_public_bytes(_raw_public(jwk)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _x_text(jwk: dict[str, Any]) -> bytes:
    return str(jwk["x"]).encode()


def _jwk_json(jwk: dict[str, Any]) -> bytes:
    return json.dumps(jwk).encode()


@pytest.mark.parametrize(("alg", "digest"), [("HS256", "sha256"), ("HS512", "sha512")])
@pytest.mark.parametrize(
    "secret_of",
    [
        pytest.param(_raw_public, id="raw-public-key"),
        pytest.param(_pem_public, id="pem-public-key"),
        pytest.param(_x_text, id="jwk-x-text"),
        pytest.param(_jwk_json, id="jwk-json"),
    ],
)
async def test_hmac_keyed_with_the_public_key_is_rejected(
    client: httpx.AsyncClient,
    tokens: dict[str, Any],
    alg: str,
    digest: str,
    secret_of: Callable[[dict[str, Any]], bytes],
) -> None:
    """The classic key-confusion attack: HMAC with the published public key as the shared secret."""
    header, claims = parts(tokens["access_token"])
    jwk = await server_public_jwk(client, header["kid"])
    header["alg"] = alg
    assert_invalid_token(await probe(client, forge_hmac(header, claims, secret_of(jwk), digest)))


@pytest.mark.parametrize("alg", ["Ed25519", "ES256", "RS256", "eddsa", ""])
async def test_other_alg_names_are_rejected_even_with_a_valid_signature(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer, alg: str
) -> None:
    header, claims = parts(tokens["access_token"])
    header["alg"] = alg
    assert_invalid_token(await probe(client, forge(header, claims, signer.private_key)))


# -- foreign keys and key identifiers ------------------------------------------------------------


async def test_attacker_key_with_the_server_kid_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], attacker_key: Ed25519PrivateKey
) -> None:
    header, claims = parts(tokens["access_token"])
    assert_invalid_token(await probe(client, forge(header, claims, attacker_key)))


@pytest.mark.parametrize(
    "headers_of",
    [
        pytest.param(lambda key, kid: {"jwk": public_jwk(key, kid)}, id="embedded-jwk-server-kid"),
        pytest.param(
            lambda key, kid: {"jwk": public_jwk(key, "attacker"), "kid": "attacker"},
            id="embedded-jwk-own-kid",
        ),
        pytest.param(lambda key, kid: {"jku": "http://127.0.0.1:1/jwks"}, id="jku-server-kid"),
        pytest.param(
            lambda key, kid: {"jku": "http://127.0.0.1:1/jwks", "kid": "attacker"}, id="jku-own-kid"
        ),
        pytest.param(
            lambda key, kid: {"jku": "http://127.0.0.1:1/jwks", "jwk": public_jwk(key, kid)},
            id="jku-and-jwk",
        ),
    ],
)
async def test_attacker_key_advertised_in_the_header_is_rejected(
    client: httpx.AsyncClient,
    tokens: dict[str, Any],
    attacker_key: Ed25519PrivateKey,
    headers_of: Callable[[Ed25519PublicKey, str], dict[str, Any]],
) -> None:
    header, claims = parts(tokens["access_token"])
    header.update(headers_of(attacker_key.public_key(), header["kid"]))
    assert_invalid_token(await probe(client, forge(header, claims, attacker_key)))


@pytest.mark.parametrize(
    "kid",
    [
        pytest.param("no-such-key", id="unknown"),
        pytest.param("", id="empty"),
        pytest.param(123, id="number"),
        pytest.param(None, id="null"),
        pytest.param(True, id="bool"),
        pytest.param(["KID"], id="list-with-server-kid"),
        pytest.param({"kid": "KID"}, id="object-with-server-kid"),
    ],
)
async def test_server_signed_token_with_a_bad_kid_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer, kid: Any
) -> None:
    """The key is chosen by ``kid`` alone: no guessing, even when the signature would verify."""
    header, claims = parts(tokens["access_token"])
    header["kid"] = json.loads(json.dumps(kid).replace("KID", signer.kid))
    assert_invalid_token(await probe(client, forge(header, claims, signer.private_key)))


async def test_server_signed_token_without_kid_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer
) -> None:
    header, claims = parts(tokens["access_token"])
    del header["kid"]
    assert_invalid_token(await probe(client, forge(header, claims, signer.private_key)))


# -- tampering with a real token -----------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t: t.rsplit(".", 1)[0] + ".", id="signature-stripped"),
        pytest.param(lambda t: t.rsplit(".", 1)[0], id="signature-segment-removed"),
        pytest.param(lambda t: t + ".", id="extra-empty-segment"),
        pytest.param(lambda t: t + ".AAAA", id="extra-segment"),
        pytest.param(lambda t: t.rsplit(".", 1)[0] + "." + b64url(b"\x00" * 64), id="zero-signature"),
        pytest.param(
            lambda t: t.rsplit(".", 1)[0] + "." + b64url(b64url_decode(t.rsplit(".", 1)[1])[:32]),
            id="truncated-signature",
        ),
        pytest.param(
            lambda t: (
                t.rsplit(".", 1)[0]
                + "."
                + b64url(
                    bytes([b64url_decode(t.rsplit(".", 1)[1])[0] ^ 1])
                    + b64url_decode(t.rsplit(".", 1)[1])[1:]
                )
            ),
            id="one-bit-flipped",
        ),
    ],
)
async def test_damaged_signature_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], tamper: Callable[[str], str]
) -> None:
    assert_invalid_token(await probe(client, tamper(tokens["access_token"])))


async def test_signature_of_another_valid_token_spliced_on_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], other_tokens: dict[str, Any]
) -> None:
    assert (await probe(client, other_tokens["access_token"])).status_code == 200
    signing_input = tokens["access_token"].rsplit(".", 1)[0]
    other_signature = other_tokens["access_token"].rsplit(".", 1)[1]
    assert_invalid_token(await probe(client, f"{signing_input}.{other_signature}"))


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda h, c, other: c.update(sub=other["sub"]), id="sub-of-another-user"),
        pytest.param(
            lambda h, c, other: c.update(sub=other["sub"], sid=other["sid"]), id="sub-and-sid-of-another"
        ),
        pytest.param(lambda h, c, other: c.update(roles=["root_admin"]), id="roles-elevated"),
        pytest.param(lambda h, c, other: c.update(exp=c["exp"] + 86_400), id="exp-extended"),
        pytest.param(lambda h, c, other: h.update(jku="http://127.0.0.1:1/jwks"), id="header-jku-added"),
        pytest.param(lambda h, c, other: h.update(typ="application/at+jwt"), id="header-typ-rewritten"),
    ],
)
async def test_modified_token_keeping_the_original_signature_is_rejected(
    client: httpx.AsyncClient,
    tokens: dict[str, Any],
    other_tokens: dict[str, Any],
    mutate: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], object],
) -> None:
    signing_input, signature = tokens["access_token"].rsplit(".", 1)
    header, claims = parts(tokens["access_token"])
    # Re-encoding unchanged parts reproduces the signed bytes, so only the mutation breaks the signature.
    assert f"{segment(header)}.{segment(claims)}" == signing_input
    _, other_claims = parts(other_tokens["access_token"])
    mutate(header, claims, other_claims)
    assert_invalid_token(await probe(client, f"{segment(header)}.{segment(claims)}.{signature}"))


# -- correctly signed by the server key, but wrong ----------------------------------------------


SERVER_SIGNED_REJECTED = [
    pytest.param(lambda h, c: c.update(aud="someone-else"), id="wrong-aud"),
    pytest.param(lambda h, c: c.update(aud=["someone-else", "another"]), id="aud-list-without-us"),
    pytest.param(lambda h, c: c.pop("aud"), id="missing-aud"),
    pytest.param(lambda h, c: c.update(iss="https://evil.example"), id="wrong-iss"),
    pytest.param(lambda h, c: c.update(iss=ISSUER + "/"), id="iss-trailing-slash"),
    pytest.param(lambda h, c: c.pop("iss"), id="missing-iss"),
    pytest.param(lambda h, c: c.pop("sid"), id="missing-sid"),
    pytest.param(lambda h, c: c.update(sid="not-a-uuid"), id="sid-not-a-uuid"),
    pytest.param(lambda h, c: c.update(sid=12345), id="sid-a-number"),
    pytest.param(lambda h, c: c.update(sid=None), id="sid-null"),
    pytest.param(lambda h, c: c.pop("sub"), id="missing-sub"),
    pytest.param(lambda h, c: c.update(sub="not-a-uuid"), id="sub-not-a-uuid"),
    pytest.param(lambda h, c: c.update(sub=str(uuid.uuid4())), id="sub-not-the-session-user"),
    pytest.param(lambda h, c: c.pop("org"), id="missing-org"),
    pytest.param(lambda h, c: c.update(org=["x"]), id="org-a-list"),
    pytest.param(lambda h, c: c.pop("jti"), id="missing-jti"),
    pytest.param(lambda h, c: c.update(roles="root_admin"), id="roles-a-string"),
    pytest.param(lambda h, c: c.update(roles=[1, 2]), id="roles-not-strings"),
    pytest.param(lambda h, c: c.pop("exp"), id="missing-exp"),
    pytest.param(lambda h, c: c.pop("iat"), id="missing-iat"),
    pytest.param(lambda h, c: c.update(exp=str(c["exp"])), id="exp-a-string"),
    pytest.param(lambda h, c: c.update(exp=c["iat"] - 60), id="exp-in-the-past"),
    pytest.param(lambda h, c: c.update(iat=c["iat"] + 3600, exp=c["exp"] + 3600), id="iat-in-the-future"),
    pytest.param(lambda h, c: c.update(iat=c["iat"] + 86_400 * 365, exp=c["exp"]), id="iat-far-future"),
    pytest.param(lambda h, c: h.pop("typ"), id="typ-missing"),
    pytest.param(lambda h, c: h.update(typ="JWT"), id="typ-JWT"),
    pytest.param(lambda h, c: h.update(typ="jwt"), id="typ-jwt"),
    pytest.param(lambda h, c: h.update(typ=["at+jwt"]), id="typ-a-list"),
    pytest.param(lambda h, c: h.update(typ=None), id="typ-null"),
    pytest.param(lambda h, c: h.update(crit=["exp"]), id="crit-exp"),
    pytest.param(lambda h, c: h.update(crit=[]), id="crit-empty"),
]


@pytest.mark.parametrize("mutate", SERVER_SIGNED_REJECTED)
async def test_server_signed_token_with_a_defect_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer, mutate: Mutation
) -> None:
    header, claims = parts(tokens["access_token"])
    mutate(header, claims)
    assert_invalid_token(await probe(client, forge(header, claims, signer.private_key)))


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda h, c: c.update(exp=10**20), id="exp-beyond-datetime"),
        pytest.param(lambda h, c: c.update(iat=-(10**20)), id="iat-before-datetime"),
    ],
)
async def test_server_signed_token_with_absurd_times_is_a_401_not_a_500(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer, mutate: Mutation
) -> None:
    """Integers that pass the comparisons but are no representable instant must still be refused cleanly."""
    header, claims = parts(tokens["access_token"])
    mutate(header, claims)
    assert_invalid_token(await probe(client, forge(header, claims, signer.private_key)))


async def test_expired_token_is_rejected_after_the_leeway(
    client: httpx.AsyncClient, tokens: dict[str, Any], clock: FrozenClock
) -> None:
    clock.advance(seconds=900 + 9)  # expired, but within the 10 s leeway
    assert (await probe(client, tokens["access_token"])).status_code == 200
    clock.advance(seconds=2)  # 900 + 11
    body = assert_invalid_token(await probe(client, tokens["access_token"]))
    assert "expired" in body["detail"]


async def test_unknown_session_is_rejected_as_ended(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer
) -> None:
    header, claims = parts(tokens["access_token"])
    claims["sid"] = str(uuid.uuid4())
    assert_invalid_token(await probe(client, forge(header, claims, signer.private_key)), "session-ended")


async def test_token_of_another_users_session_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], other_tokens: dict[str, Any], signer: Signer
) -> None:
    """A signed token naming one user and another user's session binds to neither."""
    header, claims = parts(tokens["access_token"])
    claims["sid"] = other_tokens["session_id"]
    assert_invalid_token(await probe(client, forge(header, claims, signer.private_key)))


# -- malformed Authorization headers -------------------------------------------------------------


async def test_token_over_4096_characters_is_rejected_even_when_validly_signed(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer
) -> None:
    header, claims = parts(tokens["access_token"])
    claims["pad"] = "x" * 3500
    token = forge(header, claims, signer.private_key)
    assert len(token) > 4096
    assert_invalid_token(await probe(client, token))


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("a" * 5000, id="5000-letters"),
        pytest.param("a.b." + "c" * 5000, id="5000-char-jws-shape"),
        pytest.param("." * 5000, id="5000-dots"),
        pytest.param("not.a.jwt", id="not-a-jwt"),
        pytest.param("..", id="empty-segments"),
        pytest.param("e30.e30.", id="empty-objects"),
        pytest.param("W10.e30.AA", id="header-a-list"),
        pytest.param(segment("at+jwt") + ".e30.AA", id="header-a-string"),
        pytest.param(b64url(b"\xff\xfe\xfd") + ".e30.AA", id="header-not-utf8"),
        pytest.param(b64url(b"[" * 5000) + ".e30.AA", id="header-deeply-nested"),
        pytest.param("a.b.c.d.e", id="jwe-shape"),
    ],
)
async def test_garbage_tokens_are_rejected(client: httpx.AsyncClient, token: str) -> None:
    assert_invalid_token(await probe(client, token))


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"Bearer", id="bearer-without-token"),
        pytest.param(b"Bearer ", id="bearer-and-space"),
        pytest.param(b"Bearer     ", id="bearer-and-spaces"),
        pytest.param(b"Bearer\ttoken.a.b", id="tab-separator"),
        pytest.param(b"Basic YWxpY2U6cGFzc3dvcmQ=", id="basic"),
        pytest.param(b"Token abc.def.ghi", id="other-scheme"),
        pytest.param(b"Bearer a.b c.d", id="space-inside-token"),
        pytest.param("Bearer äöü.ñ.ß".encode(), id="non-ascii-utf8"),
        pytest.param(b"Bearer \xff\xfe\xfd.\x80\x81.\xc3\x28", id="invalid-utf8-bytes"),
        pytest.param("Bearer 💥💥.💥.💥".encode(), id="emoji"),
        pytest.param("Bearer ‮eyJ.eyJ.sig".encode(), id="bidi-override"),
        pytest.param(b"Bearer \x00.\x00.\x00", id="nul-bytes"),
        pytest.param(b"\xff\xfe " + b"a.b.c", id="non-ascii-scheme"),
    ],
)
async def test_malformed_authorization_headers_are_rejected(client: httpx.AsyncClient, value: bytes) -> None:
    assert_invalid_token(await client.get(SESSION, headers={b"authorization": value}))


async def test_non_ascii_appended_to_a_real_token_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any]
) -> None:
    value = f"Bearer {tokens['access_token']}é".encode()
    assert_invalid_token(await client.get(SESSION, headers={b"authorization": value}))


# -- key rotation --------------------------------------------------------------------------------


async def test_key_rotation_keeps_old_tokens_valid_until_they_expire(
    accounts: Accounts, app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="rory")
    old = await accounts.login("rory")
    old_kid = parts(old["access_token"])[0]["kid"]

    keys: KeyStore = app.state.services.keys
    new_kid = await keys.rotate(SYSTEM)
    assert new_kid != old_kid
    assert (await client.get(SESSION, headers=bearer(old))).status_code == 200

    clock.advance(seconds=600)
    new = await accounts.login("rory")
    assert parts(new["access_token"])[0]["kid"] == new_kid
    assert (await client.get(SESSION, headers=bearer(new))).status_code == 200

    published = {key["kid"] for key in (await client.get(JWKS)).json()["keys"]}
    assert {old_kid, new_kid} <= published
    for keys_set in (await keys.jwks())["keys"]:
        assert "d" not in keys_set

    clock.advance(seconds=311 + 1)  # the old token is now 911+ s old: past exp and the leeway
    assert_invalid_token(await client.get(SESSION, headers=bearer(old)))
    assert (await client.get(SESSION, headers=bearer(new))).status_code == 200


# -- external verification -----------------------------------------------------------------------


async def test_token_verifies_externally_with_only_the_published_jwks(
    accounts: Accounts, client: httpx.AsyncClient
) -> None:
    user = await accounts.create(username="vera")
    tokens = await accounts.login("vera")
    response = await client.get(JWKS)
    assert response.status_code == 200
    jwks = response.json()
    assert all("d" not in key for key in jwks["keys"])
    key_set = jwt.PyJWKSet.from_dict(jwks)
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    claims = jwt.decode(
        tokens["access_token"],
        key_set[kid].key,
        algorithms=["EdDSA"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )
    assert claims["sub"] == str(user.id)
    assert claims["sid"] == tokens["session_id"]
    assert claims["org"] == str(user.organisation_id)
    assert claims["roles"] == ["user"]
    assert claims["aud"] == AUDIENCE
    assert claims["iss"] == ISSUER
    assert claims["exp"] - claims["iat"] == 900
    assert isinstance(claims["jti"], str)
    assert claims["jti"]
    # and a relying party holding only the JWKS rejects the usual forgeries too
    header, forged = parts(tokens["access_token"])
    forged["roles"] = ["root_admin"]
    signature = tokens["access_token"].rsplit(".", 1)[1]
    tampered = f"{segment(header)}.{segment(forged)}.{signature}"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered, key_set[kid].key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)


# -- canonical encoding and nbf --------------------------------------------------------------------

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _with_unused_bits(signature: str) -> str:
    """The same signature bytes, spelt with the unused low bits of the last character set."""
    unused = (-len(signature) * 6) % 8  # bits of the last character beyond the decoded bytes
    last = _ALPHABET.index(signature[-1])
    spelt = signature[:-1] + _ALPHABET[last | ((1 << unused) - 1)]
    assert b64url_decode(spelt) == b64url_decode(signature)
    assert spelt != signature
    return spelt


@pytest.mark.parametrize(
    "respell",
    [
        pytest.param(lambda sig: sig + "=", id="padding"),
        pytest.param(lambda sig: sig + "==", id="double-padding"),
        pytest.param(lambda sig: sig + "=" * 4, id="padding-block"),
        pytest.param(lambda sig: sig[:10] + "!" + sig[10:], id="character-outside-the-alphabet"),
        pytest.param(lambda sig: sig[:10] + "\n" + sig[10:], id="line-break"),
        pytest.param(lambda sig: sig.replace("-", "+").replace("_", "/") + "+", id="standard-alphabet"),
        pytest.param(_with_unused_bits, id="unused-bits-set"),
    ],
)
async def test_a_non_canonical_base64url_signature_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], respell: Callable[[str], str]
) -> None:
    signing_input, signature = tokens["access_token"].rsplit(".", 1)
    assert (await probe(client, f"{signing_input}.{signature}")).status_code == 200
    assert_invalid_token(await probe(client, f"{signing_input}.{respell(signature)}"))


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-60, True), (0, True), (10, True), (11, False), (3600, False)],
)
async def test_nbf_is_checked_with_the_exp_leeway(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer, offset: int, accepted: bool
) -> None:
    header, claims = parts(tokens["access_token"])
    claims["nbf"] = claims["iat"] + offset  # the frozen clock's now is iat; the test leeway is 10 s
    response = await probe(client, forge(header, claims, signer.private_key))
    if accepted:
        assert response.status_code == 200, response.text
    else:
        assert "not valid yet" in assert_invalid_token(response)["detail"]


@pytest.mark.parametrize("nbf", ["soon", 1.5, -1, True, 10**12])
async def test_a_malformed_nbf_is_rejected(
    client: httpx.AsyncClient, tokens: dict[str, Any], signer: Signer, nbf: Any
) -> None:
    header, claims = parts(tokens["access_token"])
    claims["nbf"] = nbf
    assert_invalid_token(await probe(client, forge(header, claims, signer.private_key)))
