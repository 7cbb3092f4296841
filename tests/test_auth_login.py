"""Login, the session endpoint, logout: through HTTP as a client would."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import bcrypt
import httpx
from fastapi import FastAPI
from sqlalchemy import select

from garrison.config import Settings
from garrison.db import Database
from garrison.kit.clock import FrozenClock
from garrison.models import BuiltinRole, LoginAttempt, User
from tests.conftest import Accounts, bearer

PASSWORD = "a long and unusual passphrase"


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")

    def decode(part: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return value

    return decode(header), decode(payload)


async def test_login_returns_bound_tokens(accounts: Accounts, client: httpx.AsyncClient) -> None:
    user = await accounts.create(username="alice")
    tokens = await accounts.login("alice")
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert tokens["refresh_token"].startswith("gar_rt_")
    assert len(tokens["refresh_token"]) >= len("gar_rt_") + 43  # 256 bits, base64url
    header, claims = jwt_parts(tokens["access_token"])
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "at+jwt"
    assert header["kid"]
    assert claims["sub"] == str(user.id)
    assert claims["sid"] == tokens["session_id"]
    assert claims["aud"] == "garrison"
    assert claims["iss"] == "http://127.0.0.1:8000"
    assert claims["org"] == str(user.organisation_id)
    assert claims["roles"] == ["user"]
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]

    response = await client.get("/api/v1/auth/session", headers=bearer(tokens))
    assert response.status_code == 200
    info = response.json()
    assert info["user_id"] == str(user.id)
    assert info["username"] == "alice"
    assert info["session_id"] == tokens["session_id"]
    assert info["roles"] == ["user"]
    assert info["password_change_required"] is False


async def test_login_by_email_and_with_the_oauth_password_form(
    accounts: Accounts, client: httpx.AsyncClient
) -> None:
    await accounts.create(username="bob", email="Bob@Example.com")
    await accounts.login("BOB@example.COM")
    response = await client.post(
        "/api/v1/auth/login", data={"grant_type": "password", "username": "Bob", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "Bearer"


async def test_unknown_user_and_wrong_password_answer_identically(
    accounts: Accounts, client: httpx.AsyncClient, app: FastAPI
) -> None:
    await accounts.create(username="carol")
    wrong = await client.post("/api/v1/auth/login", json={"username": "carol", "password": "not it at all!"})
    unknown = await client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "not it at all!"}
    )
    assert wrong.status_code == unknown.status_code == 401
    strip = {"request_id", "instance"}
    assert {k: v for k, v in wrong.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }
    assert wrong.headers["content-type"] == unknown.headers["content-type"] == "application/problem+json"
    database: Database = app.state.services.database
    async with database.sessions() as db:
        reasons = sorted((await db.scalars(select(LoginAttempt.reason))).all(), key=str)
    assert reasons == ["bad_password", "unknown_user"]


async def test_session_endpoint_needs_a_bearer_token(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/auth/session")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="garrison"'
    garbage = await client.get("/api/v1/auth/session", headers={"Authorization": "Bearer not.a.jwt"})
    assert garbage.status_code == 401
    assert 'error="invalid_token"' in garbage.headers["www-authenticate"]
    basic = await client.get("/api/v1/auth/session", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401
    assert 'error="invalid_token"' in basic.headers["www-authenticate"]


async def test_logout_ends_the_session_at_once(accounts: Accounts, client: httpx.AsyncClient) -> None:
    await accounts.create(username="dave")
    tokens = await accounts.login("dave")
    other = await accounts.login("dave")
    assert (await client.post("/api/v1/auth/logout", headers=bearer(tokens))).status_code == 204
    after = await client.get("/api/v1/auth/session", headers=bearer(tokens))
    assert after.status_code == 401
    assert after.json()["type"] == "urn:garrison:problem:session-ended"
    assert 'error="invalid_token"' in after.headers["www-authenticate"]
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    assert (await client.get("/api/v1/auth/session", headers=bearer(other))).status_code == 200


async def test_logout_all_ends_every_session(accounts: Accounts, client: httpx.AsyncClient) -> None:
    await accounts.create(username="erin")
    first, second = await accounts.login("erin"), await accounts.login("erin")
    assert (await client.post("/api/v1/auth/logout-all", headers=bearer(first))).status_code == 204
    for tokens in (first, second):
        assert (await client.get("/api/v1/auth/session", headers=bearer(tokens))).status_code == 401


async def test_blocked_and_expired_accounts_cannot_log_in(
    accounts: Accounts, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await accounts.create(username="frank", blocked=True)
    expired = await accounts.create(username="grace")
    async with client._transport.app.state.services.database.transaction() as db:  # type: ignore[attr-defined]
        user = await db.get(User, expired.id)
        assert user is not None
        user.account_expires_at = clock.now() - timedelta(seconds=1)
    for name in ("frank", "grace"):
        response = await client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert response.status_code == 401
        assert response.json()["type"] == "urn:garrison:problem:invalid-credentials"


async def test_legacy_bcrypt_hash_is_upgraded_on_login(
    accounts: Accounts, app: FastAPI, client: httpx.AsyncClient
) -> None:
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    database: Database = app.state.services.database
    from tests.fixtures.factories import make_user

    async with database.transaction() as db:
        user = await make_user(db, username="henry", password_hash=legacy)
    await accounts.login("henry")
    async with database.sessions() as db:
        stored = await db.get(User, user.id)
        assert stored is not None
        assert stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
    await accounts.login("henry")  # and the new hash verifies


async def test_jwks_verifies_tokens_externally(accounts: Accounts, client: httpx.AsyncClient) -> None:
    import jwt

    await accounts.create(username="ivy")
    tokens = await accounts.login("ivy")
    jwks = (await client.get("/.well-known/jwks.json")).json()
    assert all("d" not in key for key in jwks["keys"])  # public halves only
    key_set = jwt.PyJWKSet.from_dict(jwks)
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    claims = jwt.decode(
        tokens["access_token"],
        key_set[kid].key,
        algorithms=["EdDSA"],
        audience="garrison",
        issuer="http://127.0.0.1:8000",
    )
    assert claims["sid"] == tokens["session_id"]


async def test_a_changed_secret_key_retires_undecryptable_keys(
    accounts: Accounts, settings: Settings, clock: FrozenClock
) -> None:
    from pydantic import SecretStr

    from garrison.app import create_app

    await accounts.create(username="jack")
    old = await accounts.login("jack")
    changed = settings.model_copy(
        update={"secret_key": SecretStr("another-secret-" + "k7Qx9Lm2Rt5Vw8Zb" * 3)}
    )
    application = create_app(changed, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            fresh = await Accounts(application, http).login("jack")
            assert (await http.get("/api/v1/auth/session", headers=bearer(fresh))).status_code == 200
            assert (await http.get("/api/v1/auth/session", headers=bearer(old))).status_code == 401


async def test_the_access_token_carries_every_role_sorted_or_none(accounts: Accounts) -> None:
    await accounts.create(username="olga", roles=(BuiltinRole.USER, BuiltinRole.ORG_ADMIN))
    await accounts.create(username="nemo", roles=())
    assert jwt_parts((await accounts.login("olga"))["access_token"])[1]["roles"] == ["org_admin", "user"]
    assert jwt_parts((await accounts.login("nemo"))["access_token"])[1]["roles"] == []
