"""The whole test suite: lint, then the SQLite pass, then the PostgreSQL + Redis pass when reachable.

``make test`` runs this. Extra arguments go to pytest (``make test ARGS="-k cache"``). With ``CI=true``
an unreachable PostgreSQL or Redis fails the run instead of skipping that pass.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
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


def lint() -> bool:
    banner("lint: ruff check, ruff format --check, mypy --strict")
    commands = [
        [str(BIN / "ruff"), "check", "src", "tests", "scripts", "bench"],
        [str(BIN / "ruff"), "format", "--check", "src", "tests", "scripts", "bench"],
        [str(BIN / "mypy")],
    ]
    return all(subprocess.run(command, cwd=ROOT, check=False).returncode == 0 for command in commands)


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


def run_pass(name: str, backend: str, args: list[str]) -> Outcome:
    banner(f"{name} pass (GARRISON_TEST_BACKEND={backend})")
    REPORTS.mkdir(exist_ok=True)
    report = REPORTS / f"junit-{backend}.xml"
    env = {**os.environ, "GARRISON_TEST_BACKEND": backend}
    command = [str(BIN / "pytest"), f"--junitxml={report}", *args]
    code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    outcome = Outcome(name, "passed" if code == 0 else "failed")
    if report.exists():
        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite[0]
        total, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        outcome.passed, outcome.failed, outcome.skipped = total - failed - skipped, failed, skipped
        if total == 0:
            outcome.state = "failed"
    return outcome


def main() -> int:
    args = sys.argv[1:]
    ci = os.environ.get("CI", "").lower() == "true"
    ok = lint()
    outcomes = [run_pass("SQLite (embedded default)", "sqlite", args)]
    unreachable = asyncio.run(_services_reachable())
    if unreachable is None:
        outcomes.append(run_pass("PostgreSQL + Redis", "postgres", args))
    else:
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
        print(f"{outcome.name} pass: {outcome.state.upper()} ({detail})")
    ok = ok and all(outcome.state != "failed" for outcome in outcomes)
    passed = sum(outcome.passed for outcome in outcomes)
    failed = sum(outcome.failed for outcome in outcomes)
    skipped = sum(outcome.skipped for outcome in outcomes)
    print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
