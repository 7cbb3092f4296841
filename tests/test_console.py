"""``/admin``: the console's build served with a strict CSP, deep links, and nothing outside the build."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from garrison.app import create_app
from garrison.config import Settings
from garrison.console.service import NONCE_PLACEHOLDER, Console
from garrison.kit.clock import FrozenClock

INDEX = f"""<!doctype html><html><head>
<meta name="garrison-style-nonce" content="{NONCE_PLACEHOLDER}">
<script type="module" src="/admin/assets/index-abc123.js"></script></head>
<body><div id="root"></div></body></html>"""
SECRET = "do-not-serve-this-secret"


@pytest.fixture
def build(tmp_path: Path) -> Path:
    dist = tmp_path / "srv" / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-abc123.js").write_text("console.log('garrison')")
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "srv" / "secret.txt").write_text(SECRET)
    (dist / "assets" / "link").symlink_to(tmp_path / "srv" / "secret.txt")
    return dist


async def _client(
    settings: Settings, clock: FrozenClock, directory: Path
) -> AsyncIterator[httpx.AsyncClient]:
    application: FastAPI = create_app(settings.model_copy(update={"console_dir": directory}), clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
async def console(settings: Settings, clock: FrozenClock, build: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(settings, clock, build):
        yield http


@pytest.fixture
async def unbuilt(settings: Settings, clock: FrozenClock, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(settings, clock, tmp_path / "nothing-here"):
        yield http


def _nonce(response: httpx.Response) -> str:
    match = re.search(r'name="garrison-style-nonce" content="([^"]+)"', response.text)
    assert match, response.text
    return match.group(1)


@pytest.mark.parametrize("path", ["/admin", "/admin/", "/admin/users", "/admin/users/3fa8/profile?tab=x"])
async def test_every_console_path_gets_the_page_with_a_fresh_nonce_and_a_strict_csp(
    console: httpx.AsyncClient, path: str
) -> None:
    first, second = await console.get(path), await console.get(path)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/html")
    assert first.headers["cache-control"] == "no-store"
    nonce = _nonce(first)
    assert nonce != _nonce(second)
    assert NONCE_PLACEHOLDER not in first.text
    csp = first.headers["content-security-policy"]
    assert f"style-src 'self' 'nonce-{nonce}'" in csp
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "connect-src 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


async def test_hashed_assets_are_served_immutable(console: httpx.AsyncClient) -> None:
    response = await console.get("/admin/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.text == "console.log('garrison')"
    assert "javascript" in response.headers["content-type"]
    assert "immutable" in response.headers["cache-control"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    other = await console.get("/admin/favicon.svg")
    assert other.status_code == 200
    assert other.headers["cache-control"] == "no-cache"


async def test_a_missing_asset_is_a_404_not_the_page(console: httpx.AsyncClient) -> None:
    response = await console.get("/admin/assets/index-missing.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/admin/../../etc/passwd",
        "/admin/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/admin/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/admin/%2e%2e%2fsecret.txt",
        "/admin/assets/..%2f..%2fsecret.txt",
        "/admin/assets/%2e%2e/%2e%2e/secret.txt",
        "/admin/%2Fetc%2Fpasswd",
        "/admin//etc/passwd",
        "/admin/assets/link",
        "/admin/..%5csecret.txt",
        "/admin/assets/%00.js",
    ],
)
async def test_nothing_outside_the_build_is_ever_served(console: httpx.AsyncClient, path: str) -> None:
    response = await console.get(path)
    assert response.status_code in (200, 404), response.status_code
    assert SECRET not in response.text
    assert "root:" not in response.text
    if response.status_code == 200:  # the app's page (a deep link that happens to look odd)
        assert 'id="root"' in response.text


@pytest.mark.parametrize(
    "path", ["../secret.txt", "../../etc/passwd", "assets/../../secret.txt", "/etc/passwd", "assets/link"]
)
def test_the_file_lookup_refuses_paths_that_leave_the_build(build: Path, path: str) -> None:
    assert Console(build).file(path) is None
    assert Console(build).file("assets/index-abc123.js") is not None


async def test_without_a_build_the_console_explains_how_to_build_it(unbuilt: httpx.AsyncClient) -> None:
    response = await unbuilt.get("/admin/users")
    assert response.status_code == 503
    assert "npm install --no-save &amp;&amp; npm run build" in response.text
    assert "make dashboard" in response.text
    assert "<script" not in response.text
    assert not re.search(r'(src|href)="https?:', response.text)  # nothing loaded from elsewhere
    nonce = re.search(r'<style nonce="([^"]+)"', response.text)
    assert nonce
    assert f"'nonce-{nonce.group(1)}'" in response.headers["content-security-policy"]
    assert (await unbuilt.get("/admin/assets/index-abc123.js")).status_code == 404
    # The API is unaffected.
    assert (await unbuilt.get("/healthz")).status_code == 200


async def test_the_console_is_not_part_of_the_api_schema(console: httpx.AsyncClient) -> None:
    paths = (await console.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith("/admin")]
