#!/usr/bin/env python3
"""Analytics at scale: seed PostgreSQL with many login events and sessions, then time the admin reads.

    .venv/bin/python bench/analytics.py [--events 1000000 --sessions 100000 --users 2000]

Creates a throw-away database ``garrison_anbench_<random>`` on 127.0.0.1:5432 (user postgres), migrates
it to revision 0003 with ``garrison db upgrade 0003``, seeds it with set-based SQL (``generate_series``),
then runs the remaining migrations over the seeded rows as an existing installation would (0005 rolls
the login attempts up) and vacuums, starts ``garrison serve`` against it, logs in as a CLI-created root
admin and times each analytics endpoint over HTTP (1 warm-up + 5 timed calls). The server is always
stopped and the database always dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

BIN = Path(sys.executable).parent
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
ADMIN_PASSWORD = "sturdy load passphrase 2026"  # noqa: S105 (a throw-away benchmark account)
NEW_PASSWORD = "another sturdy passphrase 2026"  # noqa: S105
TARGET_MS = 300.0
SEEDED_REVISION = "0003"  # the schema SEED writes; later migrations run over the seeded rows
WARMUP, RUNS = 1, 5

SEED = """
INSERT INTO organisations (id, name, slug, is_root, created_at, updated_at)
VALUES ($1::uuid, 'Root', 'root', true, now(), now());

INSERT INTO users (id, organisation_id, username, username_key, email, email_key, password_hash, status,
                   must_change_password, failed_login_count, attributes, created_at, updated_at)
SELECT gen_random_uuid(), $1::uuid, 'user' || g, 'user' || g, 'user' || g || '@example.com',
       'user' || g || '@example.com', NULL, 'active', false, 0, '{{}}'::json,
       now() - interval '400 days', now() - interval '400 days'
FROM generate_series(1, {users}) AS g;

CREATE TEMP TABLE seed_users AS
SELECT row_number() OVER (ORDER BY id) AS n, id, username FROM users;

INSERT INTO login_attempts (id, organisation_id, user_id, username_tried, ip, success, reason, created_at)
SELECT gen_random_uuid(), $1::uuid, u.id, u.username, '10.0.' || (r.n % 256) || '.' || (r.n % 251),
       r.ok, CASE WHEN r.ok THEN NULL ELSE 'bad_password' END, r.at
FROM (
    SELECT g AS n, 1 + floor(random() * {users})::int AS pick, random() < 0.9 AS ok,
           now() - random() * interval '365 days' AS at
    FROM generate_series(1, {events}) AS g
) AS r
JOIN seed_users AS u ON u.n = r.pick;

INSERT INTO sessions (id, organisation_id, user_id, created_at, last_seen_at, expires_at, ended_at,
                      end_reason, ip)
SELECT gen_random_uuid(), $1::uuid, u.id, r.at, least(r.at + random() * interval '2 days', now()),
       r.at + interval '30 days',
       CASE WHEN r.live THEN NULL ELSE least(r.at + random() * interval '3 days', now()) END,
       CASE WHEN r.live THEN NULL WHEN random() < 0.5 THEN 'logout' ELSE 'session_expired' END,
       '10.1.' || (r.n % 256) || '.1'
FROM (
    SELECT g AS n, 1 + floor(random() * {users})::int AS pick, random() < 0.2 AS live,
           now() - random() * interval '90 days' AS at
    FROM generate_series(1, {sessions}) AS g
) AS r
JOIN seed_users AS u ON u.n = r.pick;

UPDATE users AS u SET last_login_at = l.at
FROM (SELECT user_id, max(created_at) AS at FROM login_attempts WHERE success GROUP BY user_id) AS l
WHERE l.user_id = u.id;
"""


class BenchError(Exception):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def pg_admin(statement: str) -> None:
    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def vacuum(database: str) -> None:
    """What autovacuum does to a table that has been filling for a year: visibility map and statistics."""
    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=database)
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def seed(database: str, users: int, events: int, sessions: int) -> str:
    """Fill the database; returns the id of one seeded user."""
    connection = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=database)
    try:
        root = str(uuid.uuid4())
        sql = SEED.format(users=users, events=events, sessions=sessions)
        async with connection.transaction():
            for statement in (part.strip() for part in sql.split(";")):
                if statement:
                    if "$1" in statement:
                        await connection.execute(statement, root)
                    else:
                        await connection.execute(statement)
        user_id: str = str(await connection.fetchval("SELECT id FROM users ORDER BY username LIMIT 1"))
        return user_id
    finally:
        await connection.close()


def run_cli(args: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> None:
    done = subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [str(BIN / "garrison"), *args],
        input=stdin,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"garrison {' '.join(args[:2])} failed: {done.stderr.strip()[-2000:]}")


def start_server(env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen[bytes]:
    with open(cwd / "server.log", "wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own server, fixed arguments)
            [str(BIN / "garrison"), "serve", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 90
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(f"the server exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get("/healthz").status_code == 200:
                    return process
            time.sleep(0.2)
    stop_server(process)
    raise BenchError("the server did not answer /healthz within 90s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)  # the group of the process we started
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)


def login(client: httpx.Client) -> str:
    response = client.post("/api/v1/auth/login", json={"username": "benchadmin", "password": ADMIN_PASSWORD})
    if response.status_code != 200:
        raise BenchError(f"login failed: {response.status_code} {response.text[:300]}")
    token: str = response.json()["access_token"]
    if response.json().get("password_change_required"):
        changed = client.post(
            "/api/v1/me/password",
            json={"current_password": ADMIN_PASSWORD, "new_password": NEW_PASSWORD},
            headers={"Authorization": f"Bearer {token}"},
        )
        if changed.status_code >= 300:
            raise BenchError(f"password change failed: {changed.status_code} {changed.text[:300]}")
        response = client.post(
            "/api/v1/auth/login", json={"username": "benchadmin", "password": NEW_PASSWORD}
        )
        if response.status_code != 200:
            raise BenchError(f"second login failed: {response.status_code} {response.text[:300]}")
        token = response.json()["access_token"]
    return token


def endpoints(user_id: str) -> list[tuple[str, str, dict[str, str]]]:
    now = datetime.now(UTC)
    year, week = (now - timedelta(days=365)).isoformat(), (now - timedelta(days=7)).isoformat()
    to = now.isoformat()
    logins = "/api/v1/admin/analytics/logins"
    return [
        ("stats", "/api/v1/admin/stats", {}),
        ("logins day 365d", logins, {"interval": "day", "from": year, "to": to}),
        ("logins hour 7d", logins, {"interval": "hour", "from": week, "to": to}),
        ("logins week 365d", logins, {"interval": "week", "from": year, "to": to}),
        ("logins month 365d", logins, {"interval": "month", "from": year, "to": to}),
        ("logins day 365d Paris", logins, {"interval": "day", "from": year, "to": to, "tz": "Europe/Paris"}),
        (
            "heatmap 365d Kolkata",
            "/api/v1/admin/analytics/heatmap",
            {"from": year, "to": to, "tz": "Asia/Kolkata"},
        ),
        ("analytics/sessions", "/api/v1/admin/analytics/sessions", {}),
        ("sessions active p50", "/api/v1/admin/sessions", {"state": "active", "page_size": "50"}),
        ("users by last_login", "/api/v1/admin/users", {"page_size": "50", "sort": "last_login_at"}),
        ("user profile", f"/api/v1/admin/users/{user_id}/profile", {}),
    ]


def measure(client: httpx.Client, token: str, user_id: str) -> list[tuple[str, list[float]]]:
    headers = {"Authorization": f"Bearer {token}"}
    results = []
    for name, path, params in endpoints(user_id):
        timings = []
        for run in range(WARMUP + RUNS):
            started = time.perf_counter()
            response = client.get(path, params=params, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise BenchError(f"{name}: {response.status_code} {response.text[:300]}")
            if run >= WARMUP:
                timings.append(elapsed)
        results.append((name, timings))
    return results


def report(results: list[tuple[str, list[float]]]) -> None:
    print(f"| {'endpoint':<24} | {'min ms':>8} | {'median ms':>9} | {'max ms':>8} | < {TARGET_MS:.0f} ms |")
    print(f"|{'-' * 26}|{'-' * 9}:|{'-' * 10}:|{'-' * 9}:|{'-' * 10}|")
    for name, timings in results:
        median = statistics.median(timings)
        verdict = "PASS" if median < TARGET_MS else "MISS"
        print(f"| {name:<24} | {min(timings):8.1f} | {median:9.1f} | {max(timings):8.1f} | {verdict:<8} |")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=2_000)
    args = parser.parse_args()

    database = f"garrison_anbench_{secrets.token_hex(4)}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GARRISON_")}
    server: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="garrison-anbench-") as tmp:
        workdir = Path(tmp)
        env.update(
            PYTHONUNBUFFERED="1",
            GARRISON_DATABASE_URL=f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}",
            GARRISON_DATA_DIR=str(workdir / "var"),
            GARRISON_LOG_LEVEL="warning",
            GARRISON_RATE_LIMIT_ENABLED="false",
        )
        asyncio.run(pg_admin(f'CREATE DATABASE "{database}"'))
        try:
            run_cli(["db", "upgrade", SEEDED_REVISION], env, workdir)
            started = time.perf_counter()
            user_id = asyncio.run(seed(database, args.users, args.events, args.sessions))
            print(
                f"seeded {args.users:,} users, {args.events:,} login attempts, {args.sessions:,} sessions "
                f"in {time.perf_counter() - started:.1f}s (database {database})"
            )
            started = time.perf_counter()
            run_cli(["db", "upgrade"], env, workdir)
            asyncio.run(vacuum(database))
            print(f"migrated to head and vacuumed in {time.perf_counter() - started:.1f}s")
            run_cli(
                [
                    "admin",
                    "create",
                    "--username",
                    "benchadmin",
                    "--email",
                    "benchadmin@example.com",
                    "--password-stdin",
                ],
                env,
                workdir,
                stdin=ADMIN_PASSWORD,
            )
            port = free_port()
            server = start_server(env, workdir, port)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120.0) as client:
                token = login(client)
                results = measure(client, token, user_id)
            report(results)
        except BenchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            if server is not None:
                stop_server(server)
            try:
                asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            except Exception as exc:  # report, and go on
                print(f"warning: could not drop database {database}: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
