"""The console end to end: Debian's Chromium, headless, driving a real ``garrison serve`` with seeded data.

Every step that changes something is checked through the API as well (a blocked user's token stops
working, a revoked session's too, the refresh cookie is dead after sign-out). Any browser console error
(a Content-Security-Policy violation is one) fails the test, and so does any accessibility violation of
impact serious or critical that axe-core finds on a page. Each pass saves a screenshot of each page
into ``reports/screenshots/<backend>/``; with ``GARRISON_UPDATE_SCREENSHOTS=1`` the SQLite pass also
writes them to ``docs/screenshots/`` (the README's), so an ordinary run leaves the tree clean.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from garrison.config import Settings
from tests.conftest import settings_env
from tests.fixtures.backends import BACKEND, DatabaseFactory
from tests.fixtures.server import ServerProcess, create_user, run_garrison

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dashboard" / "dist"
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "dashboard" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CI = os.environ.get("CI", "").lower() == "true"

OPS_FIRST_PASSWORD = "Temporary-Pass-1234"
OPS_PASSWORD = "correct horse battery staple 2026"
SEEDER_PASSWORD = "a long and unusual passphrase 77"
DEPARTMENTS = ("Research", "Operations", "Finance")


def _unavailable() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    if not (DIST / "index.html").exists():
        return "the dashboard is not built (cd dashboard && npm install --no-save && npm run build)"
    if not AXE.exists():
        return f"{AXE.relative_to(ROOT)} not found (cd dashboard && npm install --no-save)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@dataclass
class Seeded:
    server: ServerProcess
    seeder: dict[str, str]
    users: dict[str, str] = field(default_factory=dict)  # username -> id
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.server.url + path, headers=self.seeder, timeout=30, **kwargs)


def _login(url: str, username: str, password: str) -> dict[str, Any]:
    response = httpx.post(url + "/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _seed(server: ServerProcess) -> Seeded:
    """Users through the admin API, sessions through logins, failed logins, and a refresh-token reuse."""
    seeder = _login(server.url, "seeder", SEEDER_PASSWORD)
    world = Seeded(server, {"Authorization": f"Bearer {seeder['access_token']}"})
    passwords: dict[str, str] = {}
    for index in range(12):
        username = f"analyst{index:02d}"
        response = world.api(
            "POST",
            "/api/v1/admin/users",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "full_name": f"Analyst {index:02d}",
                "department": DEPARTMENTS[index % 3],
                "roles": ["user"],
            },
        )
        assert response.status_code == 201, response.text
        world.users[username] = response.json()["user"]["id"]
        passwords[username] = response.json()["temporary_password"]
    for username in ("analyst01", "analyst02", "analyst03", "analyst04"):
        world.tokens[username] = _login(server.url, username, passwords[username])
    # A spent refresh token presented again: the session is revoked and an anomaly raised.
    spent = world.tokens["analyst03"]["refresh_token"]
    refresh = server.url + "/api/v1/auth/refresh"
    assert httpx.post(refresh, json={"refresh_token": spent}).status_code == 200
    assert httpx.post(refresh, json={"refresh_token": spent}).status_code == 401
    for _ in range(2):
        wrong = httpx.post(
            server.url + "/api/v1/auth/login", json={"username": "analyst05", "password": "nope"}
        )
        assert wrong.status_code == 401
    return world


@pytest.fixture
async def garrison_env(settings: Settings, databases: DatabaseFactory, tmp_path: Path) -> dict[str, str]:
    fresh = settings.model_copy(update={"database_url": await databases.create()})
    return {
        **settings_env(fresh),
        "GARRISON_CONSOLE_DIR": str(DIST),
        "GARRISON_RATE_LIMIT_LOGIN_IP": "1000/minute",
        "GARRISON_RATE_LIMIT_LOGIN_USERNAME": "1000/minute",
    }


@pytest.fixture
def seeded(garrison_env: dict[str, str], tmp_path: Path) -> Iterator[Seeded]:
    problem = _unavailable()
    if problem is not None:
        if CI:
            pytest.fail(f"the browser end-to-end tests cannot run: {problem}")
        pytest.skip(problem)
    assert run_garrison(garrison_env, tmp_path, "db", "upgrade").returncode == 0
    root_admin = ("--role", "root_admin")
    create_user(garrison_env, tmp_path, "ops", OPS_FIRST_PASSWORD, *root_admin, "--must-change-password")
    create_user(garrison_env, tmp_path, "seeder", SEEDER_PASSWORD, *root_admin)
    with ServerProcess(garrison_env, tmp_path) as server:
        yield _seed(server)


def _accessibility_violations(page: Any, name: str) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one readable line each.

    axe is evaluated through the DevTools protocol, not added as a <script>, so the page's CSP (no
    inline script) stays as strict as ever and reports nothing.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    # Colours are measured as drawn: let finite transitions (a notification sliding in, fading) end
    # first, or a half-faded text counts as low contrast. Spinners run forever and are not waited for.
    page.wait_for_function(
        "document.getAnimations().filter((a) => a.effect"
        " && a.effect.getComputedTiming().iterations !== Infinity)"
        ".every((a) => a.playState !== 'running')",
        timeout=10_000,
    )
    result = page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    found = []
    for violation in result["violations"]:
        if violation["impact"] not in ("serious", "critical"):
            continue
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        more = len(violation["nodes"]) - 5
        targets += f" and {more} more" if more > 0 else ""
        found.append(
            f"{name}: {violation['id']} ({violation['impact']}): {violation['help']} [{targets}]"
            f" {violation['helpUrl']}"
        )
    return found


def _kpi(page: Any, name: str) -> int:
    return int(page.get_by_test_id(f"kpi-{name}").get_attribute("data-value"))


def test_the_console_end_to_end(seeded: Seeded) -> None:
    from playwright.sync_api import expect, sync_playwright

    base = seeded.server.url + "/admin"
    problems: list[str] = []
    inaccessible: list[str] = []
    folders = [ROOT / "reports" / "screenshots" / BACKEND]
    if BACKEND == "sqlite" and os.environ.get("GARRISON_UPDATE_SCREENSHOTS") == "1":
        folders.append(SCREENSHOTS)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)

    def shot(page: Any, name: str) -> None:
        """Check the page's accessibility and save its screenshot."""
        page.wait_for_timeout(400)  # let charts finish their entry animation
        inaccessible.extend(_accessibility_violations(page, name))
        image = page.screenshot(path=str(folders[0] / f"{name}.png"), full_page=True)
        for folder in folders[1:]:
            (folder / f"{name}.png").write_bytes(image)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
        page = context.new_page()

        def on_console(message: Any) -> None:
            if message.type == "error":  # CSP violations are reported here
                problems.append(f"{message.text} at {message.location} [{page.url}]")

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
        expect.set_options(timeout=15_000)

        # -- sign in, forced password change -----------------------------------------------------
        page.goto(base + "/")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        shot(page, "01-sign-in")
        page.get_by_label("Username or email").fill("ops")
        page.get_by_label(re.compile("^Password")).fill(OPS_FIRST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        shot(page, "02-change-password")
        # Until the password changes, admin APIs refuse the new session.
        page.get_by_label(re.compile("^Current")).fill(OPS_FIRST_PASSWORD)
        page.get_by_label(re.compile("^New password")).fill(OPS_PASSWORD)
        page.get_by_label(re.compile("^Repeat")).fill(OPS_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        assert not any(c["name"] == "garrison_refresh" and not c["httpOnly"] for c in context.cookies())
        assert (
            page.evaluate("window.localStorage.length + window.sessionStorage.length") <= 1
        )  # UI prefs only
        assert "gar_rt_" not in page.evaluate("JSON.stringify(window.localStorage)")

        # -- overview KPIs agree with the API (after a reload: the session resumes from the cookie) --
        page.reload()
        expect(page.get_by_test_id("kpi-users")).to_be_visible()
        stats = seeded.api("GET", "/api/v1/admin/stats").json()
        expect(page.get_by_test_id("kpi-users")).to_have_attribute("data-value", str(stats["users_total"]))
        assert _kpi(page, "users") == stats["users_total"] == 14
        assert _kpi(page, "admins") == stats["admins"] == 2
        assert _kpi(page, "blocked") == stats["users_blocked"]
        assert _kpi(page, "active-sessions") == stats["active_sessions"]
        assert _kpi(page, "logins") == stats["logins_24h"]
        assert _kpi(page, "failed-logins") == stats["failed_logins_24h"] >= 2
        assert _kpi(page, "open-anomalies") == stats["open_anomalies"] >= 1
        expect(page.get_by_test_id("login-trend")).to_be_visible()
        shot(page, "03-overview")

        # -- users: filter, sort, page -------------------------------------------------------------
        page.get_by_role("link", name="Users").click()
        table = page.get_by_test_id("users-table")
        expect(table.locator("tbody tr")).to_have_count(14)
        page.get_by_role("textbox", name="Department").fill("Research")
        expect(table.locator("tbody tr")).to_have_count(4)
        research = seeded.api("GET", "/api/v1/admin/users", params={"department": "Research"}).json()
        assert research["total"] == 4
        expect(page.get_by_text("1\u20134 of 4 users")).to_be_visible()
        page.get_by_role("button", name="Clear filters").click()
        page.get_by_role("textbox", name="Search").fill("analyst0")
        expect(table.locator("tbody tr")).to_have_count(10)
        page.get_by_role("button", name="Clear filters").click()
        page.get_by_role("textbox", name="Rows per page").click()
        page.get_by_role("option", name="10", exact=True).click()
        expect(table.locator("tbody tr")).to_have_count(10)
        page.get_by_role("button", name=re.compile("^User")).click()  # sort by username, A to Z
        expect(table.locator("tbody tr").first).to_have_attribute("data-username", "analyst00")
        page.get_by_role("button", name="Page 2").click()
        expect(page.get_by_text("11\u201314 of 14 users")).to_be_visible()
        expect(table.locator("tbody tr")).to_have_count(4)
        expect(table.locator("tbody tr").last).to_have_attribute("data-username", "seeder")
        page.get_by_role("button", name="Page 1").click()
        shot(page, "04-users")

        # -- create a user: the temporary password is shown once and works --------------------------
        page.get_by_role("button", name="Create user").click()
        dialog = page.get_by_role("dialog", name="Create a user")
        dialog.get_by_label(re.compile("^Username")).fill("newcomer")
        dialog.get_by_label(re.compile("^Email")).fill("newcomer@example.com")
        dialog.get_by_label("Department").fill("Research")
        dialog.get_by_role("button", name="Create user").click()
        created = page.get_by_role("dialog", name="User created")
        temporary = created.get_by_test_id("temporary-password").inner_text().strip()
        expect(created.get_by_role("button", name="Copy")).to_be_visible()
        shot(page, "04b-user-created")
        created.get_by_role("button", name="Done").click()
        first_login = _login(seeded.server.url, "newcomer", temporary)
        assert first_login["password_change_required"] is True

        # -- edit drawer: profile and roles -------------------------------------------------------
        page.get_by_role("textbox", name="Search").fill("newcomer")
        expect(table.locator("tbody tr")).to_have_count(1)
        page.get_by_role("button", name="Actions for newcomer").click()
        page.get_by_role("menuitem", name="Edit").click()
        drawer = page.get_by_role("dialog", name="Edit newcomer")
        expect(drawer.get_by_label("Department")).to_have_value("Research")
        drawer.get_by_label("Department").fill("Finance")
        drawer.get_by_label("Rank").fill("Lead")
        drawer.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved newcomer")).to_be_visible()
        newcomer = seeded.api("GET", "/api/v1/admin/users", params={"q": "newcomer"}).json()["items"][0]
        assert (newcomer["department"], newcomer["rank"]) == ("Finance", "Lead")
        page.get_by_role("button", name="Clear filters").click()

        # -- block: the user's existing access token is refused at once; then unblock ---------------
        victim = seeded.tokens["analyst01"]
        session_url = seeded.server.url + "/api/v1/auth/session"
        victim_auth = {"Authorization": f"Bearer {victim['access_token']}"}
        assert httpx.get(session_url, headers=victim_auth).status_code == 200
        page.get_by_role("button", name="Actions for analyst01").click()
        page.get_by_role("menuitem", name="Block").click()
        page.get_by_label(re.compile("^Reason")).fill("Suspicious activity reported")
        page.get_by_role("button", name="Block user").click()
        expect(page.get_by_text("Blocked analyst01; their sessions have ended.")).to_be_visible()
        assert httpx.get(session_url, headers=victim_auth).status_code == 401
        user = seeded.api("GET", f"/api/v1/admin/users/{seeded.users['analyst01']}").json()
        assert user["status"] == "blocked"
        expect(table.locator('tr[data-username="analyst01"]').get_by_text("blocked")).to_be_visible()
        page.get_by_role("button", name="Actions for analyst01").click()
        page.get_by_role("menuitem", name="Unblock").click()
        expect(page.get_by_text("Unblocked analyst01.")).to_be_visible()
        user = seeded.api("GET", f"/api/v1/admin/users/{seeded.users['analyst01']}").json()
        assert user["status"] == "active"

        # -- sessions: filter and revoke one with confirmation ----------------------------------------
        page.get_by_role("link", name="Sessions").click()
        page.get_by_role("textbox", name="State").click()
        page.get_by_role("option", name="Active").click()
        sessions_table = page.get_by_test_id("sessions-table")
        target = seeded.tokens["analyst02"]
        row = sessions_table.locator(f'tr[data-session-id="{target["session_id"]}"]')
        expect(row).to_be_visible()
        shot(page, "05-sessions")
        row.get_by_role("button", name=re.compile("^Revoke session of analyst02")).click()
        page.get_by_role("dialog").get_by_role("button", name="Revoke session").click()
        expect(page.get_by_text("Session revoked; its tokens stop working now.")).to_be_visible()
        expect(row).to_have_count(0)  # no longer active
        target_auth = {"Authorization": f"Bearer {target['access_token']}"}
        assert httpx.get(session_url, headers=target_auth).status_code == 401

        # -- a user's profile, reached by a deep link (the server's SPA fallback) -------------------
        page.goto(f"{base}/users/{seeded.users['analyst02']}")
        expect(page.get_by_role("heading", name="Analyst 02")).to_be_visible()
        expect(page.get_by_test_id("profile-sessions")).to_have_attribute("data-value", "1")
        expect(page.get_by_test_id("profile-sessions-table").get_by_text("revoked")).to_be_visible()
        shot(page, "06-user-profile")

        # -- analytics: the heatmap holds today's logins ------------------------------------------
        page.get_by_role("link", name="Analytics").click()
        heatmap = page.get_by_test_id("heatmap")
        expect(heatmap).to_be_visible()
        counts = [
            int(c) for c in heatmap.locator("[data-count]").evaluate_all("e => e.map(x => x.dataset.count)")
        ]
        assert len(counts) == 7 * 24
        expect_logins = seeded.api("GET", "/api/v1/admin/analytics/heatmap").json()
        assert sum(counts) == sum(map(sum, expect_logins["counts"])) > 0
        shot(page, "07-analytics")

        # -- anomalies: acknowledge the refresh-token reuse -----------------------------------------
        page.get_by_role("link", name="Anomalies").click()
        reuse = page.locator('tr[data-anomaly-type="refresh_token_reuse"]')
        expect(reuse).to_have_count(1)
        shot(page, "08-anomalies")
        reuse.get_by_role("button", name="Acknowledge").click()
        expect(page.get_by_text("Anomaly acknowledged.")).to_be_visible()
        feed = seeded.api("GET", "/api/v1/admin/anomalies", params={"type": "refresh_token_reuse"}).json()
        assert [a["status"] for a in feed["items"]] == ["acknowledged"]
        expect(reuse).to_have_count(0)  # the feed shows open anomalies
        # A new anomaly arrives while the page is open: the feed's poll (the `since` cursor) shows it.
        spent = seeded.tokens["analyst04"]["refresh_token"]
        refresh_url = seeded.server.url + "/api/v1/auth/refresh"
        assert httpx.post(refresh_url, json={"refresh_token": spent}).status_code == 200
        assert httpx.post(refresh_url, json={"refresh_token": spent}).status_code == 401
        expect(reuse).to_have_count(1, timeout=20_000)
        expect(reuse.get_by_text("new")).to_be_visible()

        # -- audit log: export as CSV --------------------------------------------------------------
        page.get_by_role("link", name="Audit log").click()
        expect(page.get_by_test_id("audit-table")).to_be_visible()
        shot(page, "09-audit-log")
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Export CSV").click()
        exported = Path(download_info.value.path()).read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(exported)))
        actions = {row["action"] for row in rows}
        assert {"user.blocked", "user.unblocked", "session.revoked", "anomaly.acknowledged"} <= actions, (
            actions
        )

        # -- dark theme and tablet width -----------------------------------------------------------
        page.get_by_role("link", name="Overview").click()
        page.get_by_role("button", name="Switch to the dark theme").click()
        expect(page.locator("html")).to_have_attribute("data-mantine-color-scheme", "dark")
        expect(page.get_by_test_id("kpi-users")).to_be_visible()
        shot(page, "10-overview-dark")
        page.get_by_role("button", name="Switch to the light theme").click()
        page.set_viewport_size({"width": 820, "height": 1100})
        page.get_by_role("button", name="Toggle navigation").click()
        page.get_by_role("link", name="Users").click()
        expect(page.get_by_test_id("users-table")).to_be_visible()
        shot(page, "11-users-tablet")
        page.set_viewport_size({"width": 1280, "height": 860})

        # -- sign out: the refresh cookie is dead afterwards ---------------------------------------
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        refresh_cookie, csrf = cookies["garrison_refresh"], cookies["garrison_csrf"]
        page.get_by_role("button", name=re.compile("^Account menu")).click()
        page.get_by_role("menuitem", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        assert "garrison_refresh" not in {c["name"] for c in context.cookies()}
        after = httpx.post(
            seeded.server.url + "/api/v1/auth/refresh",
            json={},
            headers={"Cookie": f"garrison_refresh={refresh_cookie}", "X-CSRF-Token": csrf},
        )
        assert after.status_code == 401, after.text
        page.reload()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        browser.close()

    assert problems == [], problems
    assert inaccessible == [], "accessibility violations (axe-core):\n" + "\n".join(inaccessible)
