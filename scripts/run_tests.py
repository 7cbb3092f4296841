"""The whole test suite: lint, the dashboard's checks and build, then the SQLite pass, then the
PostgreSQL + Redis pass when reachable (both include the browser end-to-end tests).

``make test`` runs this. Extra arguments go to pytest (``make test ARGS="-k cache"``). With ``CI=true``
an unreachable PostgreSQL or Redis, or a missing Node.js or Chromium, fails the run instead of skipping
that part.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REPORTS = ROOT / "reports"
POSTGRES_URL = os.environ.get(
    "GARRISON_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("GARRISON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DASHBOARD = ROOT / "dashboard"
CHROMIUM = Path("/usr/bin/chromium")
MIN_NODE = (20, 19)


@dataclass
class Outcome:
    name: str
    state: str  # passed, failed, skipped
    counts: str = ""
    passed: int = 0
    failed: int = 0
    skipped: int = 0


def banner(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


MAX_MODULE_LINES = 400


def modules_small_enough() -> bool:
    """No module in ``src/`` over :data:`MAX_MODULE_LINES` lines: a longer one is split by what it does."""
    long = [
        (path.relative_to(ROOT), lines)
        for path in sorted((ROOT / "src").rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    for path, lines in long:
        print(f"{path}: {lines} lines (at most {MAX_MODULE_LINES}); split it", flush=True)
    return not long


def lint() -> bool:
    banner("lint: ruff check, ruff format --check, mypy --strict, import contracts, module sizes")
    commands = [
        [str(BIN / "ruff"), "check", "src", "tests", "scripts", "bench"],
        [str(BIN / "ruff"), "format", "--check", "src", "tests", "scripts", "bench"],
        [str(BIN / "mypy")],
        [str(BIN / "lint-imports")],
    ]
    results = [subprocess.run(command, cwd=ROOT, check=False).returncode == 0 for command in commands]
    return all(results) and modules_small_enough()


def _node_problem() -> str | None:
    """``None`` when Node.js (recent enough) and npm are installed; otherwise what is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "Node.js and npm are not installed (the dashboard needs Node.js 20.19 or newer)"
    found = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    try:
        version = tuple(int(part) for part in found.lstrip("v").split(".")[:2])
    except ValueError:
        return f"cannot read the Node.js version ({found!r})"
    if version < MIN_NODE:
        return f"Node.js {found} is too old (the dashboard needs 20.19 or newer)"
    return None


def _npm(*args: str) -> bool:
    print(f"$ npm {' '.join(args)}", flush=True)
    npm = shutil.which("npm") or "npm"
    return subprocess.run([npm, *args], cwd=DASHBOARD, check=False).returncode == 0


def _install_node_modules() -> bool:
    """A clean install of exactly what package-lock.json pins, when node_modules does not match it.

    Not ``npm ci``: it refuses a lock file that lacks other platforms' optional builds (rollup's,
    esbuild's), and registries that do not carry every platform's build yield such lock files.
    ``npm install --no-save`` from an empty node_modules installs the same locked versions, checks
    their integrity, and never rewrites the lock. A stamp records which lock was installed.
    """
    lock = hashlib.sha256((DASHBOARD / "package-lock.json").read_bytes()).hexdigest()
    stamp = DASHBOARD / "node_modules" / ".garrison-lock-sha256"
    if stamp.exists() and stamp.read_text().strip() == lock:
        print("node_modules is up to date with package-lock.json", flush=True)
        return True
    shutil.rmtree(DASHBOARD / "node_modules", ignore_errors=True)
    if not _npm("install", "--no-save", "--no-audit", "--no-fund"):
        return False
    stamp.write_text(lock + "\n")
    return True


def _generated_client_is_current() -> bool:
    """Regenerate the OpenAPI document and the typed client aside; they must equal the committed ones."""
    with tempfile.TemporaryDirectory() as tmp:
        schema = Path(tmp) / "openapi.json"
        client = Path(tmp) / "schema.ts"
        exported = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "export_openapi.py"), "--output", str(schema)],
            cwd=ROOT,
            check=False,
        )
        if exported.returncode != 0:
            return False
        generator = DASHBOARD / "node_modules" / ".bin" / "openapi-typescript"
        command = [str(generator), str(schema), "-o", str(client)]
        if subprocess.run(command, cwd=DASHBOARD, check=False).returncode != 0:
            return False
        stale = [
            name
            for name, fresh, committed in (
                ("dashboard/openapi.json", schema, DASHBOARD / "openapi.json"),
                ("dashboard/src/api/schema.ts", client, DASHBOARD / "src" / "api" / "schema.ts"),
            )
            if not committed.exists() or fresh.read_bytes() != committed.read_bytes()
        ]
    if stale:
        print(
            f"STALE: {', '.join(stale)} no longer match the server's API. Regenerate and commit them:\n"
            "  .venv/bin/python scripts/export_openapi.py && (cd dashboard && npm run gen:api)",
            flush=True,
        )
        return False
    print("the generated API client matches the server's OpenAPI schema", flush=True)
    return True


def dashboard(ci: bool) -> Outcome:
    """Install, check the generated client, lint, check formatting, type-check, test and build the console."""
    banner(
        "dashboard: locked install, generated client up to date, eslint, prettier --check, tsc --noEmit,"
        " vitest run, vite build"
    )
    problem = _node_problem()
    if problem is not None:
        state = "failed" if ci else "skipped"
        banner(f"dashboard {state.upper()}: {problem}")
        if not ci:
            print("The server still runs; install Node.js 20+ to build and test the console.")
        return Outcome("Dashboard", state, counts=problem)
    steps = [
        ("npm install", _install_node_modules),
        ("generated client", _generated_client_is_current),
        ("eslint", lambda: _npm("run", "lint")),
        ("prettier", lambda: _npm("run", "format:check")),
        ("tsc", lambda: _npm("run", "typecheck")),
        ("vitest", lambda: _npm("test")),
        ("vite build", lambda: _npm("run", "build")),
    ]
    for name, step in steps:
        if not step():
            return Outcome("Dashboard", "failed", counts=f"{name} failed")
    return Outcome("Dashboard", "passed", counts="lint, format, types, unit tests and build")


async def _services_reachable() -> str | None:
    """``None`` when PostgreSQL and Redis both answer; otherwise why not."""
    import asyncpg
    import redis.asyncio as aioredis
    from sqlalchemy.engine import make_url

    dsn = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(dsn, timeout=3)
        await connection.close()
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} is not reachable ({exc})"
    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as exc:
        return f"Redis at {REDIS_URL} is not reachable ({exc})"
    finally:
        await client.aclose()
    return None


@dataclass
class Pass:
    name: str
    backend: str


def _outcome(test_pass: Pass, code: int) -> Outcome:
    report = REPORTS / f"junit-{test_pass.backend}.xml"
    outcome = Outcome(test_pass.name, "passed" if code == 0 else "failed")
    if report.exists():
        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite[0]
        total, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        outcome.passed, outcome.failed, outcome.skipped = total - failed - skipped, failed, skipped
        if total == 0:
            outcome.state = "failed"
    return outcome


def run_passes(passes: list[Pass], args: list[str]) -> list[Outcome]:
    """Run the passes side by side (they share nothing: each has its own database, Redis prefix, ports
    and reports), each writing to its own log, shown whole when it ends. ``GARRISON_TEST_SERIAL=1``
    runs them one after the other instead, with their output as it comes."""
    REPORTS.mkdir(exist_ok=True)

    def command(test_pass: Pass) -> list[str]:
        return [str(BIN / "pytest"), f"--junitxml={REPORTS / f'junit-{test_pass.backend}.xml'}", *args]

    def env(test_pass: Pass) -> dict[str, str]:
        return {**os.environ, "GARRISON_TEST_BACKEND": test_pass.backend}

    if len(passes) < 2 or os.environ.get("GARRISON_TEST_SERIAL") == "1":
        outcomes = []
        for test_pass in passes:
            banner(f"{test_pass.name} pass (GARRISON_TEST_BACKEND={test_pass.backend})")
            code = subprocess.run(command(test_pass), cwd=ROOT, env=env(test_pass), check=False).returncode
            outcomes.append(_outcome(test_pass, code))
        return outcomes
    banner(f"{' and '.join(p.name for p in passes)} passes, side by side (logs under reports/)")
    running = []
    for test_pass in passes:
        log = (REPORTS / f"pass-{test_pass.backend}.log").open("w")
        process = subprocess.Popen(
            command(test_pass), cwd=ROOT, env=env(test_pass), stdout=log, stderr=subprocess.STDOUT
        )
        running.append((test_pass, process, log))
    outcomes = []
    for test_pass, process, log in running:
        code = process.wait()
        log.close()
        banner(f"{test_pass.name} pass (GARRISON_TEST_BACKEND={test_pass.backend}): its log")
        print((REPORTS / f"pass-{test_pass.backend}.log").read_text(errors="replace"), flush=True)
        outcomes.append(_outcome(test_pass, code))
    return outcomes


def main() -> int:
    args = sys.argv[1:]
    ci = os.environ.get("CI", "").lower() == "true"
    ok = lint()
    outcomes = [dashboard(ci)]
    if not CHROMIUM.exists():
        state = "failed" if ci else "skipped"
        reason = f"{CHROMIUM} not found (apt-get install chromium)"
        outcomes.append(Outcome("Browser end-to-end tests", state, counts=reason))
        banner(f"browser end-to-end tests {state.upper()}: {reason}")
    passes = [Pass("SQLite (embedded default)", "sqlite")]
    unreachable = asyncio.run(_services_reachable())
    if unreachable is None:
        passes.append(Pass("PostgreSQL + Redis", "postgres"))
    outcomes.extend(run_passes(passes, args))
    if unreachable is not None:
        state = "failed" if ci else "skipped"
        outcomes.append(Outcome("PostgreSQL + Redis", state, counts=unreachable))
        banner(f"PostgreSQL + Redis pass {state.upper()}: {unreachable}")
        if not ci:
            print("Install and start them as the README says to run this pass too.")

    banner("summary")
    print(f"lint: {'passed' if ok else 'FAILED'}")
    for outcome in outcomes:
        detail = (
            outcome.counts or f"{outcome.passed} passed, {outcome.failed} failed, {outcome.skipped} skipped"
        )
        kind = "" if outcome.name in ("Dashboard", "Browser end-to-end tests") else " pass"
        print(f"{outcome.name}{kind}: {outcome.state.upper()} ({detail})")
    ok = ok and all(outcome.state != "failed" for outcome in outcomes)
    passed = sum(outcome.passed for outcome in outcomes)
    failed = sum(outcome.failed for outcome in outcomes)
    skipped = sum(outcome.skipped for outcome in outcomes)
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
