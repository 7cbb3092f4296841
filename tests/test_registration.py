"""Registration, the username probe and the password policy, through HTTP."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from garrison.app import create_app
from garrison.config import Settings
from garrison.identity.router import REGISTRATION_ACCEPTED
from garrison.kit.clock import FrozenClock
from tests.conftest import Accounts, bearer

GOOD = "plenty of entropy in this one"


@pytest.fixture
async def root(accounts: Accounts) -> None:
    """Registration puts users in the root organisation, which a running server always has."""
    await accounts.create(username="operator")


@pytest.mark.usefixtures("root")
async def test_register_then_log_in(client: httpx.AsyncClient, accounts: Accounts) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "username": "New.User",
            "email": "New.User@Example.com",
            "password": GOOD,
            "full_name": "New User",
            "department": "Research",
            "date_of_birth": "1990-04-01",
            "attributes": {"shift": "night", "clearance": 3},
        },
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"username": "New.User", "detail": REGISTRATION_ACCEPTED}
    me = await client.get("/api/v1/me", headers=bearer(await accounts.login("new.user", GOOD)))
    body = me.json()
    assert body["username"] == "New.User"
    assert body["email"] == "New.User@example.com"
    assert body["roles"] == ["user"]
    assert body["status"] == "active"
    assert body["department"] == "Research"
    assert body["attributes"] == {"shift": "night", "clearance": 3}


@pytest.mark.usefixtures("root")
@pytest.mark.parametrize(
    "extra",
    [
        {"roles": ["root_admin"]},
        {"status": "active"},
        {"organisation_id": "00000000-0000-0000-0000-000000000000"},
    ],
)
async def test_registration_cannot_set_privileged_fields(
    client: httpx.AsyncClient, extra: dict[str, object]
) -> None:
    body = {"username": "sneaky", "email": "sneaky@example.com", "password": GOOD, **extra}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.usefixtures("root")
@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short", "min_length"),
        ("x" * 129, "max_length"),
        ("qazwsxedcrfv", "common"),
        ("1qaz2wsx3edc", "common"),
        ("my name is walter123", "contains_username"),
        ("walt.email.address.secret", "contains_email"),
    ],
)
async def test_password_policy_says_which_rule_failed(
    client: httpx.AsyncClient, password: str, rule: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"username": "walter123", "email": "walt.email.address@example.com", "password": password},
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["type"] == "urn:garrison:problem:weak-password"
    assert body["rule"] == rule


@pytest.mark.usefixtures("root")
async def test_unicode_passwords_are_normalised(client: httpx.AsyncClient, accounts: Accounts) -> None:
    composed = "caf\u00e9 au lait, tr\u00e8s bien"
    decomposed = "cafe\u0301 au lait, tre\u0300s bien"
    response = await client.post(
        "/api/v1/auth/register",
        json={"username": "unicode", "email": "unicode@example.com", "password": composed},
    )
    assert response.status_code == 202
    await accounts.login("unicode", decomposed)


@pytest.mark.usefixtures("root")
async def test_taken_usernames_are_refused_case_insensitively(client: httpx.AsyncClient) -> None:
    first = {"username": "Twin", "email": "twin@example.com", "password": GOOD}
    assert (await client.post("/api/v1/auth/register", json=first)).status_code == 202
    for body in (
        {**first, "username": "TWIN", "email": "other@example.com"},
        {**first, "username": "twin", "email": "TWIN@EXAMPLE.COM"},
    ):
        response = await client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 409
        assert response.json()["type"] == "urn:garrison:problem:user-exists"
        assert "username" in response.json()["detail"]


@pytest.mark.usefixtures("root")
async def test_a_registered_email_gets_the_answer_of_a_new_one(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    """No enumeration of email addresses: the same status and body, and nothing is created."""
    first = {"username": "first", "email": "shared@example.com", "password": GOOD}
    fresh = await client.post("/api/v1/auth/register", json=first)
    for email in ("shared@example.com", "SHARED@Example.COM"):
        again = {"username": "second", "email": email, "password": GOOD}
        duplicate = await client.post("/api/v1/auth/register", json=again)
        assert duplicate.status_code == fresh.status_code == 202, duplicate.text
        assert duplicate.headers["content-type"] == fresh.headers["content-type"]
        assert duplicate.json() == {**fresh.json(), "username": "second"}
    probe = await client.get("/api/v1/auth/username-available", params={"username": "second"})
    assert probe.json()["available"] is True
    refused = await client.post("/api/v1/auth/login", json={"username": "second", "password": GOOD})
    assert refused.status_code == 401
    await accounts.login("first", GOOD)


@pytest.mark.usefixtures("root")
async def test_attributes_are_size_limited(client: httpx.AsyncClient) -> None:
    body = {
        "username": "big",
        "email": "big@example.com",
        "password": GOOD,
        "attributes": {"blob": "x" * 9000},
    }
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert "attributes" in response.json()["detail"]


@pytest.mark.usefixtures("root")
async def test_username_availability(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/auth/username-available", params={"username": "Operator"})).json() == {
        "username": "Operator",
        "available": False,
    }
    free = await client.get("/api/v1/auth/username-available", params={"username": "fresh-name"})
    assert free.json()["available"] is True
    for bad in ("ab", "has space", "x" * 65, "semi;colon"):
        response = await client.get("/api/v1/auth/username-available", params={"username": bad})
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("mode", "kind"), [("disabled", "registration-closed"), ("invite_only", "registration-closed")]
)
async def test_closed_registration(settings: Settings, clock: FrozenClock, mode: str, kind: str) -> None:
    application: FastAPI = create_app(settings.model_copy(update={"registration": mode}), clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post(
                "/api/v1/auth/register",
                json={"username": "late", "email": "late@example.com", "password": GOOD},
            )
    assert response.status_code == 403
    assert response.json()["type"] == f"urn:garrison:problem:{kind}"


async def test_registration_and_probe_are_rate_limited(settings: Settings, clock: FrozenClock) -> None:
    limited = settings.model_copy(
        update={"rate_limit_username_probe_ip": "2/minute", "rate_limit_register_ip": "1/minute"}
    )
    application = create_app(limited, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await Accounts(application, http).create(username="operator")
            probes = [
                (await http.get("/api/v1/auth/username-available", params={"username": "abc"})).status_code
                for _ in range(3)
            ]
            registrations = [
                (
                    await http.post(
                        "/api/v1/auth/register",
                        json={"username": f"r{i}xx", "email": f"r{i}@example.com", "password": GOOD},
                    )
                ).status_code
                for i in range(2)
            ]
    assert probes == [200, 200, 429]
    assert registrations == [202, 429]


@pytest.mark.usefixtures("root")
@pytest.mark.parametrize("attributes", [{"k": "a\x00b"}, {"a\x00b": 1}, {"deep": {"x": ["\x00"]}}])
async def test_nul_inside_attributes_is_stored_or_refused_never_a_500(
    client: httpx.AsyncClient, attributes: dict[str, object]
) -> None:
    body = {"username": "nully", "email": "nully@example.com", "password": GOOD, "attributes": attributes}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code in (202, 422), response.text
