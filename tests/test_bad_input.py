"""Hostile input to login, refresh and the session endpoint: always a 4xx problem, never a 500.

Each case sends raw bytes (the client library must not tidy them up) and checks the status, the
``application/problem+json`` body and that no traceback leaks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from garrison.authn.passwords import MAX_PASSWORD_INPUT
from garrison.config import Settings
from garrison.db import Database
from garrison.errors import PROBLEM_CONTENT_TYPE
from garrison.kit.clock import FrozenClock
from garrison.models import LoginAttempt
from garrison.sessions.schemas import MAX_LOGIN_LENGTH
from tests.conftest import Accounts

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
SESSION = "/api/v1/auth/session"
PASSWORD = "a long and unusual passphrase"
MiB = 1024 * 1024
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


def assert_problem(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """A client error rendered as RFC 9457 problem+json, without internals."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if status is not None:
        assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert str(body["type"]).startswith("urn:garrison:problem:")
    return body


async def attempts(app: FastAPI) -> int:
    database: Database = app.state.services.database
    async with database.sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(LoginAttempt)) or 0)


@pytest.fixture
async def alice(accounts: Accounts) -> None:
    """A real account, so a request that slipped past validation could actually log in."""
    await accounts.create(username="alice")


def body_of(value: Any) -> bytes:
    return json.dumps(value).encode()


# -- login: JSON shapes --------------------------------------------------------------------------

LOGIN_JSON_CASES = [
    # missing fields
    pytest.param({}, 422, id="empty-object"),
    pytest.param({"username": "alice"}, 422, id="no-password"),
    pytest.param({"password": PASSWORD}, 422, id="no-username"),
    # wrong types
    pytest.param({"username": 123, "password": PASSWORD}, 422, id="username-number"),
    pytest.param({"username": 1.5, "password": PASSWORD}, 422, id="username-float"),
    pytest.param({"username": True, "password": PASSWORD}, 422, id="username-bool"),
    pytest.param({"username": ["alice"], "password": PASSWORD}, 422, id="username-list"),
    pytest.param({"username": {"$ne": None}, "password": PASSWORD}, 422, id="username-object"),
    pytest.param({"username": None, "password": PASSWORD}, 422, id="username-null"),
    pytest.param({"username": "alice", "password": 123456789012}, 422, id="password-number"),
    pytest.param({"username": "alice", "password": [PASSWORD]}, 422, id="password-list"),
    pytest.param({"username": "alice", "password": {"$gt": ""}}, 422, id="password-object"),
    pytest.param({"username": "alice", "password": None}, 422, id="password-null"),
    pytest.param({"username": "alice", "password": True}, 422, id="password-bool"),
    # unknown fields are forbidden
    pytest.param(
        {"username": "alice", "password": PASSWORD, "grant_type": "password"}, 422, id="extra-grant"
    ),
    pytest.param({"username": "alice", "password": PASSWORD, "admin": True}, 422, id="extra-admin"),
    pytest.param({"username": "alice", "password": PASSWORD, "__proto__": {}}, 422, id="extra-proto"),
    pytest.param({"username": "alice", "password": PASSWORD, "": ""}, 422, id="extra-empty-name"),
    # empty and overlong strings
    pytest.param({"username": "", "password": PASSWORD}, 422, id="username-empty"),
    pytest.param({"username": "alice", "password": ""}, 422, id="password-empty"),
    pytest.param({"username": "", "password": ""}, 422, id="both-empty"),
    pytest.param({"username": "a" * (MAX_LOGIN_LENGTH + 1), "password": PASSWORD}, 422, id="username-321"),
    pytest.param({"username": "a" * 100_000, "password": PASSWORD}, 422, id="username-100k"),
    # within bounds, but no such account: the ordinary refusal
    pytest.param({"username": "   ", "password": PASSWORD}, 401, id="username-blank"),
    pytest.param({"username": "a" * MAX_LOGIN_LENGTH, "password": PASSWORD}, 401, id="username-320"),
    pytest.param({"username": "alice", "password": "wrong passphrase"}, 401, id="wrong-password"),
    # NUL and other control characters
    pytest.param({"username": "al\x00ice", "password": PASSWORD}, 422, id="username-nul-inside"),
    pytest.param({"username": "\x00", "password": PASSWORD}, 422, id="username-only-nul"),
    pytest.param({"username": "alice\x00", "password": PASSWORD}, 422, id="username-nul-suffix"),
    pytest.param({"username": "alice\x00@x.io", "password": PASSWORD}, 422, id="email-with-nul"),
    pytest.param({"username": "alice", "password": PASSWORD + "\x00"}, 422, id="password-nul"),
    pytest.param({"username": "\x1b[31malice\r\n", "password": PASSWORD}, 401, id="username-ansi-crlf"),
]


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(("payload", "status"), LOGIN_JSON_CASES)
async def test_login_rejects_bad_json_fields(client: httpx.AsyncClient, payload: Any, status: int) -> None:
    assert_problem(await client.post(LOGIN, content=body_of(payload), headers=JSON), status)


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"[]", id="empty-list"),
        pytest.param(body_of([{"username": "alice", "password": PASSWORD}]), id="list-of-login"),
        pytest.param(b'"alice"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="null"),
        pytest.param(b"true", id="bool"),
        pytest.param(b"", id="empty-body"),
        pytest.param(b"   ", id="whitespace-body"),
        pytest.param(b'{"username": "alice", "password": ', id="truncated"),
        pytest.param(b"{'username': 'alice'}", id="single-quotes"),
        pytest.param(b'{"username": "alice", "password": "x",}', id="trailing-comma"),
        pytest.param(b'{"username": NaN, "password": Infinity}', id="nan-infinity"),
        pytest.param(b'{"username": "alice"} {"password": "x"}', id="two-documents"),
    ],
)
async def test_login_rejects_json_that_is_not_a_login_object(client: httpx.AsyncClient, raw: bytes) -> None:
    assert_problem(await client.post(LOGIN, content=raw, headers=JSON), 422)


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    ("password", "status"),
    [pytest.param(PASSWORD, 200, id="right"), pytest.param("wrong one", 401, id="wrong")],
)
@pytest.mark.parametrize(
    "user_agent",
    [
        pytest.param(b"Mozilla/5.0\x00evil", id="nul"),
        pytest.param(b"\xff\xfe\xfd", id="invalid-utf8"),
        pytest.param(b"\x1b[2J\x07", id="terminal-escapes"),
        pytest.param(b"x" * 8192, id="8kb"),
    ],
)
async def test_login_with_a_hostile_user_agent_is_recorded_not_a_500(
    client: httpx.AsyncClient, password: str, status: int, user_agent: bytes
) -> None:
    """The User-Agent is stored with the attempt and the session: whatever it holds must not break that."""
    response = await client.post(
        LOGIN,
        content=body_of({"username": "alice", "password": password}),
        headers={b"content-type": b"application/json", b"user-agent": user_agent},
    )
    if status == 200:
        assert response.status_code == 200, response.text[:500]
    else:
        assert_problem(response, status)


@pytest.mark.usefixtures("alice")
async def test_failures_sent_with_a_nul_user_agent_still_lock_only_temporarily(
    client: httpx.AsyncClient, app: FastAPI, clock: FrozenClock, settings: Settings
) -> None:
    """A hostile User-Agent must not stop failures being recorded, nor turn a lockout permanent."""
    hostile = {b"content-type": b"application/json", b"user-agent": b"x\x00y"}
    wrong = body_of({"username": "alice", "password": "wrong passphrase"})
    statuses = [
        (await client.post(LOGIN, content=wrong, headers=hostile)).status_code
        for _ in range(settings.lockout_threshold)
    ]
    right = {"username": "alice", "password": PASSWORD}
    assert_problem(await client.post(LOGIN, json=right), 401)  # locked now
    clock.advance(seconds=settings.lockout_duration + 1)
    after = await client.post(LOGIN, json=right)
    assert after.status_code == 200, f"lock never expired: {after.status_code} {after.text[:300]}"
    assert statuses == [401] * settings.lockout_threshold
    assert await attempts(app) == settings.lockout_threshold + 2


# -- bytes that are not JSON text, and JSON nested to exhaustion ---------------------------------

INVALID_UTF8 = [
    pytest.param(b'{"username": "\xff\xfe", "password": "x"}', id="ff-fe-in-string"),
    pytest.param(b"\xff\xfe\xfd\xfc", id="only-invalid-bytes"),
    pytest.param(b'{"username": "al\xc3\x28ice", "password": "x"}', id="bad-continuation"),
    pytest.param(b'{"username": "\xc0\xaf", "password": "x"}', id="overlong-slash"),
    pytest.param(b'{"username": "\xed\xa0\x80", "password": "x"}', id="encoded-surrogate"),
    pytest.param(b'{"username": "alice", "password": "\xf4\x90\x80\x80"}', id="beyond-u10ffff"),
    pytest.param(b'{"username": "alice\x80", "password": "x"}', id="lone-continuation"),
    pytest.param(json.dumps({"username": "alice", "password": "x"}).encode("utf-16"), id="utf16-bom"),
    pytest.param(b"\x00\x00\x00{", id="nul-prefix"),
]

DEEP = [
    pytest.param(b"[" * 10_000, id="10k-open-brackets"),
    pytest.param(b"[" * 10_000 + b"]" * 10_000, id="10k-nested-lists"),
    pytest.param(b'{"a":' * 10_000, id="10k-open-objects"),
    pytest.param(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, id="10k-nested-objects"),
    pytest.param(b"[" * 200_000, id="200k-open-brackets"),
    pytest.param(
        b'{"username": ' + b"[" * 10_000 + b"]" * 10_000 + b', "password": "x"}', id="nested-in-field"
    ),
]


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("path", [LOGIN, REFRESH])
@pytest.mark.parametrize("raw", INVALID_UTF8 + DEEP)
async def test_undecodable_or_deeply_nested_json_is_a_client_error(
    client: httpx.AsyncClient, path: str, raw: bytes
) -> None:
    assert_problem(await client.post(path, content=raw, headers=JSON))


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"username": "\\ud800", "password": "x"}', id="lone-high-surrogate"),
        pytest.param(b'{"username": "\\udfff", "password": "x"}', id="lone-low-surrogate"),
        pytest.param(b'{"username": "alice", "password": "\\ud800"}', id="password-surrogate"),
        pytest.param(b'{"username": "\\u0000", "password": "x"}', id="escaped-nul"),
    ],
)
async def test_login_with_unpaired_surrogate_or_nul_escapes_is_a_client_error(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    assert_problem(await client.post(LOGIN, content=raw, headers=JSON))


# -- login: content types ------------------------------------------------------------------------


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(None, id="none"),
        pytest.param("text/plain", id="text-plain"),
        pytest.param("text/json", id="text-json"),
        pytest.param("application/xml", id="xml"),
        pytest.param("application/json-patch+json", id="json-patch"),
        pytest.param("multipart/form-data; boundary=x", id="multipart"),
        pytest.param("application/octet-stream", id="octet-stream"),
        pytest.param("", id="empty"),
        pytest.param(";;;", id="only-semicolons"),
    ],
)
async def test_login_with_a_wrong_content_type_is_a_client_error(
    client: httpx.AsyncClient, app: FastAPI, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    raw = body_of({"username": "alice", "password": PASSWORD})
    response = await client.post(LOGIN, content=raw, headers=headers)
    assert_problem(response, 400)
    assert await attempts(app) == 0


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
async def test_login_json_content_type_parameters_and_case_are_accepted(
    client: httpx.AsyncClient, content_type: str
) -> None:
    """Control for the content-type cases: the same body is a successful login."""
    raw = body_of({"username": "alice", "password": PASSWORD})
    response = await client.post(LOGIN, content=raw, headers={"content-type": content_type})
    assert response.status_code == 200, response.text


# -- login: the OAuth password form --------------------------------------------------------------


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(b"grant_type=password&username=alice", 422, id="no-password"),
        pytest.param(b"grant_type=password&password=x", 422, id="no-username"),
        pytest.param(b"grant_type=password", 422, id="only-grant-type"),
        pytest.param(b"", 422, id="empty"),
        pytest.param(b"username=alice&password=", 422, id="empty-password"),
        pytest.param(b"username=&password=x", 422, id="empty-username"),
        pytest.param(b"username&password", 422, id="names-without-values"),
        pytest.param(b"&&&==&=", 422, id="only-separators"),
        pytest.param(b"username=alice&password=" + b"x" * (MAX_PASSWORD_INPUT + 1), 422, id="password-1025"),
        pytest.param(b"username=al%00ice&password=x", 422, id="nul-in-username"),
        pytest.param(b"username=%00&password=%00", 422, id="only-nul"),
        pytest.param(b"username=%FF%FE&password=x", 401, id="invalid-utf8-escape"),
        pytest.param(b"username=%ED%A0%80&password=x", 401, id="encoded-surrogate"),
        pytest.param(b"username=\xff\xfe&password=x", 401, id="raw-invalid-utf8"),
        pytest.param(b"username=%zz&password=%", 401, id="broken-percent-escapes"),
    ],
)
async def test_form_login_with_bad_fields_is_a_client_error(
    client: httpx.AsyncClient, raw: bytes, status: int
) -> None:
    assert_problem(await client.post(LOGIN, content=raw, headers=FORM), status)


# -- login: password length and body size --------------------------------------------------------


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("length", [MAX_PASSWORD_INPUT + 1, 4096, 100_000])
async def test_overlong_password_is_refused_before_hashing(
    client: httpx.AsyncClient, app: FastAPI, length: int
) -> None:
    response = await client.post(LOGIN, json={"username": "alice", "password": "x" * length})
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["body", "password"]
    assert "x" * 64 not in response.text  # the input is not echoed
    assert await attempts(app) == 0  # nothing reached the password check


@pytest.mark.usefixtures("alice")
async def test_password_at_the_input_limit_is_checked_like_any_other(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Boundary control: MAX_PASSWORD_INPUT characters are tried (and here refused as wrong)."""
    response = await client.post(LOGIN, json={"username": "alice", "password": "x" * MAX_PASSWORD_INPUT})
    assert_problem(response, 401)
    assert await attempts(app) == 1


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("path", [LOGIN, REFRESH])
async def test_body_over_one_mebibyte_is_413(client: httpx.AsyncClient, app: FastAPI, path: str) -> None:
    field = "password" if path == LOGIN else "refresh_token"
    payload: dict[str, str] = {field: "x" * MiB}
    if path == LOGIN:
        payload["username"] = "alice"
    raw = body_of(payload)
    assert len(raw) > MiB
    assert_problem(await client.post(path, content=raw, headers=JSON), 413)
    assert await attempts(app) == 0


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("path", [LOGIN, REFRESH])
async def test_streamed_body_over_one_mebibyte_without_content_length_is_413(
    client: httpx.AsyncClient, path: str
) -> None:
    """Chunked: no Content-Length to refuse up front, so the limit applies while reading."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "alice", "password": "'
        for _ in range(17):
            yield b"x" * 65_536
        yield b'"}'

    response = await client.post(path, content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)


@pytest.mark.usefixtures("alice")
async def test_body_just_under_one_mebibyte_with_a_huge_password_is_422(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    overhead = len(body_of({"username": "alice", "password": ""}))
    raw = body_of({"username": "alice", "password": "x" * (MiB - overhead - 1)})
    assert MiB - 16 < len(raw) < MiB
    assert_problem(await client.post(LOGIN, content=raw, headers=JSON), 422)
    assert await attempts(app) == 0


# -- refresh -------------------------------------------------------------------------------------

REFRESH_CASES = [
    pytest.param({}, 422, id="empty-object"),
    pytest.param({"refresh_token": None}, 422, id="null"),
    pytest.param({"refresh_token": 123}, 422, id="number"),
    pytest.param({"refresh_token": ["gar_rt_x"]}, 422, id="list"),
    pytest.param({"refresh_token": {"$ne": ""}}, 422, id="object"),
    pytest.param({"refresh_token": True}, 422, id="bool"),
    pytest.param({"refresh_token": ""}, 422, id="empty"),
    pytest.param({"refresh_token": "gar_rt_x", "session_id": "x"}, 422, id="extra-field"),
    pytest.param({"refresh_token": "gar_rt_x", "grant_type": "refresh_token"}, 422, id="extra-grant"),
    pytest.param({"token": "gar_rt_x"}, 422, id="wrong-field-name"),
    pytest.param({"refresh_token": "x" * 10_240}, 422, id="10kb-no-prefix"),
    pytest.param({"refresh_token": "gar_rt_" + "x" * 10_240}, 422, id="10kb-with-prefix"),
    pytest.param({"refresh_token": "not-a-garrison-token"}, 401, id="no-prefix"),
    pytest.param({"refresh_token": "GAR_RT_" + "x" * 43}, 401, id="prefix-upper-case"),
    pytest.param({"refresh_token": "gar_rt_"}, 401, id="only-prefix"),
    pytest.param({"refresh_token": "gar_rt_" + "x" * 43}, 401, id="unknown"),
    pytest.param({"refresh_token": "gar_rt_" + "x" * 300}, 401, id="prefix-and-300"),
    pytest.param({"refresh_token": "gar_rt_\x00\x00"}, 422, id="nul"),
    pytest.param({"refresh_token": "gar_rt_' OR '1'='1"}, 401, id="sql-quote"),
    pytest.param({"refresh_token": "gar_rt_ñ💥"}, 401, id="non-ascii"),
]


@pytest.mark.parametrize(("payload", "status"), REFRESH_CASES)
async def test_refresh_rejects_bad_tokens_and_shapes(
    client: httpx.AsyncClient, payload: Any, status: int
) -> None:
    body = assert_problem(await client.post(REFRESH, content=body_of(payload), headers=JSON), status)
    if status == 401:
        assert body["type"] == "urn:garrison:problem:invalid-refresh-token"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"refresh_token": "gar_rt_\\ud800"}', id="lone-high-surrogate"),
        pytest.param(b'{"refresh_token": "gar_rt_\\udfff\\ud800"}', id="reversed-pair"),
        pytest.param(b'{"refresh_token": "\\ud800"}', id="surrogate-without-prefix"),
    ],
)
async def test_refresh_with_unpaired_surrogates_is_a_client_error(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    assert_problem(await client.post(REFRESH, content=raw, headers=JSON))


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"[]", id="empty-list"),
        pytest.param(b'["gar_rt_x"]', id="list"),
        pytest.param(b'"gar_rt_x"', id="string"),
        pytest.param(b"null", id="null"),
        pytest.param(b"0", id="number"),
        pytest.param(b"", id="empty-body"),
        pytest.param(b'{"refresh_token": ', id="truncated"),
    ],
)
async def test_refresh_rejects_json_that_is_not_an_object(client: httpx.AsyncClient, raw: bytes) -> None:
    assert_problem(await client.post(REFRESH, content=raw, headers=JSON), 422)


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        pytest.param("text/plain", b'{"refresh_token": "gar_rt_x"}', id="text-plain"),
        pytest.param("application/x-www-form-urlencoded", b"refresh_token=gar_rt_x", id="form"),
        pytest.param(None, b"refresh_token=gar_rt_x", id="none-form-body"),
        pytest.param("application/xml", b"<refresh_token>gar_rt_x</refresh_token>", id="xml"),
    ],
)
async def test_refresh_with_a_wrong_content_type_is_a_client_error(
    client: httpx.AsyncClient, content_type: str | None, raw: bytes
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    assert_problem(await client.post(REFRESH, content=raw, headers=headers))


# -- the session endpoint ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no-authorization"),
        pytest.param({b"authorization": b""}, 401, id="empty-authorization"),
        pytest.param({b"authorization": b"Bearer " + b"A" * 8192}, 401, id="8kb-token"),
        pytest.param({b"authorization": b"Bearer " + b"." * 3}, 401, id="only-dots"),
        pytest.param({b"authorization": b"Bearer a\x00.b.c"}, 401, id="nul"),
        pytest.param({b"authorization": b"Bearer \xff.\xfe.\xfd"}, 401, id="invalid-utf8"),
        pytest.param({b"authorization": b"Bearer eyJ\xc3\xa9.e30.AA"}, 401, id="non-ascii-header-segment"),
        pytest.param({b"authorization": b"Bearer e30.\xc3\xa9.AA"}, 401, id="non-ascii-payload"),
        pytest.param({b"authorization": b"Bearer 1.2.3"}, 401, id="digits"),
        pytest.param({b"authorization": b"Bearer null"}, 401, id="null-word"),
        pytest.param({b"cookie": b"access_token=eyJ.eyJ.sig"}, 401, id="token-in-cookie-only"),
    ],
)
async def test_session_endpoint_refuses_hostile_authorization(
    client: httpx.AsyncClient, headers: dict[bytes, bytes], status: int
) -> None:
    assert_problem(await client.get(SESSION, headers=headers), status)


async def test_session_endpoint_ignores_tokens_in_the_query_string(client: httpx.AsyncClient) -> None:
    """RFC 6750 §2.3 is not supported: a token in the URL is not a credential."""
    response = await client.get(SESSION, params={"access_token": "e30.e30.AA"})
    body = assert_problem(response, 401)
    assert body["type"] == "urn:garrison:problem:missing-token"


async def test_session_endpoint_with_a_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.request("GET", SESSION, content=b"x" * (MiB + 1), headers=JSON)
    assert_problem(response, 413)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_session_endpoint_wrong_methods_are_405(client: httpx.AsyncClient, method: str) -> None:
    assert_problem(await client.request(method, SESSION, content=b"[" * 10_000, headers=JSON), 405)
