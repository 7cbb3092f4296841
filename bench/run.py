#!/usr/bin/env python3
"""Garrison benchmarks: start a real server per backend and load it from separate processes.

    .venv/bin/python bench/run.py --backend sqlite|postgres|both --duration 5 --workers 1

Per backend it measures, in this order:
  1. GET /healthz                  the framework ceiling (no auth, no database)
  2. GET /api/v1/auth/session      token + session-cache check; ratio to (1), target >= 60%
  3. GET /api/v1/me                the same plus a database read
  4. POST /api/v1/auth/refresh     refresh-token rotation, one chain per connection; target >= 500/s (PG)
  5. POST /api/v1/auth/login       against the argon2id hash ceiling measured here; target >= 85%
  6. GET /api/v1/auth/session p99  paced probe, idle and during a login flood; target p99 < 50 ms

The load comes from wrk when it is installed (``--client auto``), else from bench/loadgen.py (httpx);
the paced probe of (6) is always loadgen.py. Every load process is bounded in time, the server is always
stopped, the PostgreSQL database dropped and the Redis keys deleted. Only loopback is ever targeted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import redis
from argon2 import PasswordHasher

HERE = Path(__file__).resolve().parent
LOADGEN = HERE / "loadgen.py"
BIN = Path(sys.executable).parent
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# The password policy refuses a password that contains the username ("bench ..." for user bench).
BENCH_PASSWORD = "sturdy load passphrase 2026"  # noqa: S105 (a throw-away benchmark account)
SESSION_PATH = "/api/v1/auth/session"
ME_PATH = "/api/v1/me"
CLK_TCK = os.sysconf("SC_CLK_TCK")

PHASES = ("healthz", "session", "me", "refresh", "login", "flood")
THROUGHPUT_PHASES = frozenset({"healthz", "session", "me", "refresh", "login"})

# Targets.
SESSION_RATIO_TARGET = 0.60
REFRESH_TARGET_RPS = 500.0
LOGIN_RATIO_TARGET = 0.85
FLOOD_P99_TARGET_MS = 50.0

# Settings the harness owns; any other GARRISON_* variable in the environment is passed through.
OWNED_SETTINGS = (
    "GARRISON_DATABASE_URL",
    "GARRISON_REDIS_URL",
    "GARRISON_REDIS_PREFIX",
    "GARRISON_DATA_DIR",
    "GARRISON_LOG_LEVEL",
    "GARRISON_RATE_LIMIT_ENABLED",
    "GARRISON_ENV",
    "GARRISON_REGISTRATION",
    "GARRISON_WORKERS",
)


class BenchError(RuntimeError):
    pass


# -- CPU accounting ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CpuSample:
    """Cumulative CPU seconds at one instant, split by who spent them."""

    wall: float
    busy: float  # the whole machine, all cores
    irq: float  # of which interrupts and softirqs (loopback networking is charged here)
    server: dict[int, float]  # per process of the server's process group
    dbcache: dict[int, float]  # per postgres or redis-server process
    clients: float  # load generators this process has waited for
    harness: float  # this process (the hash-ceiling threads)


@dataclass(frozen=True, slots=True)
class CpuShare:
    """CPU used during a phase, in percent of one core."""

    server: float
    clients: float
    dbcache: float
    irq: float  # kernel interrupt and softirq time (much of it loopback networking)
    other: float  # anything else: another program on the machine
    server_split: tuple[float, ...] = ()  # per server process (busiest first), when several work

    def text(self) -> str:
        return f"{self.server:5.0f} {self.clients:5.0f} {self.dbcache:5.0f} {self.irq:5.0f} {self.other:5.0f}"


def _machine_busy() -> tuple[float, float]:
    """CPU seconds the machine has been busy (all cores), and how many of them in irq/softirq."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]] + [0] * 8
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLK_TCK, (fields[5] + fields[6]) / CLK_TCK


def _processes() -> Iterator[tuple[int, str, int, float]]:
    """(pid, command name, process group, CPU seconds) of every process."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="utf-8", errors="replace") as handle:
                raw = handle.read()
        except OSError:
            continue
        comm = raw[raw.find("(") + 1 : raw.rfind(")")]
        rest = raw[raw.rfind(")") + 2 :].split()
        yield int(entry.name), comm, int(rest[2]), (int(rest[11]) + int(rest[12])) / CLK_TCK


def cpu_sample(server_pgid: int | None) -> CpuSample:
    server: dict[int, float] = {}
    dbcache: dict[int, float] = {}
    for pid, comm, pgrp, seconds in _processes():
        if server_pgid is not None and pgrp == server_pgid:
            server[pid] = seconds
        elif comm == "postgres" or comm.startswith("redis-server"):
            dbcache[pid] = seconds
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    busy, irq = _machine_busy()
    return CpuSample(
        wall=time.monotonic(),
        busy=busy,
        irq=irq,
        server=server,
        dbcache=dbcache,
        clients=children.ru_utime + children.ru_stime,
        harness=own.ru_utime + own.ru_stime,
    )


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent by processes alive at the end (one that exited meanwhile is not seen)."""
    return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


def cpu_share(before: CpuSample, after: CpuSample) -> CpuShare:
    wall = max(after.wall - before.wall, 1e-9)
    server = _spent(before.server, after.server)
    per_process = sorted(
        (100 * (seconds - before.server.get(pid, 0.0)) / wall for pid, seconds in after.server.items()),
        reverse=True,
    )
    dbcache = _spent(before.dbcache, after.dbcache)
    clients = after.clients - before.clients
    harness = after.harness - before.harness
    irq = after.irq - before.irq
    other = max(0.0, (after.busy - before.busy) - server - clients - dbcache - harness - irq)
    return CpuShare(
        server=100 * server / wall,
        clients=100 * (clients + harness) / wall,
        dbcache=100 * dbcache / wall,
        irq=100 * irq / wall,
        other=100 * other / wall,
        server_split=tuple(per_process) if len(per_process) > 1 else (),
    )


def idle_check(seconds: float = 1.0) -> float:
    """Percent of one core busy on the machine while we do nothing (before starting)."""
    start, wall = _machine_busy()[0], time.monotonic()
    time.sleep(seconds)
    return 100 * (_machine_busy()[0] - start) / (time.monotonic() - wall)


# -- results -------------------------------------------------------------------------------------


@dataclass(slots=True)
class LoadResult:
    client: str
    connections: int
    requests: int
    ok: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    relogins: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    client_cpu_pct: float | None = None


@dataclass(slots=True)
class Row:
    key: str
    label: str
    load: LoadResult | None = None
    cpu: CpuShare | None = None
    value: float | None = None  # for rows that are a rate, not a load (the hash ceiling)
    note: str = ""


@dataclass(slots=True)
class Verdict:
    name: str
    figure: str
    target: str
    status: str  # PASS, MISS or n/a


@dataclass(slots=True)
class BackendReport:
    backend: str
    workers: int
    client: str
    duration: int
    started: str
    idle_busy_pct: float
    rows: list[Row] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, key: str) -> Row | None:
        return next((r for r in self.rows if r.key == key), None)


# -- helpers -------------------------------------------------------------------------------------


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise BenchError(f"{url!r} is not a loopback address; this benchmark only targets 127.0.0.1")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env_int(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name)
    return int(value) if value else default


@dataclass(frozen=True, slots=True)
class HashSettings:
    time_cost: int
    memory_cost: int
    parallelism: int
    concurrency: int  # per server process

    @classmethod
    def from_env(cls, env: dict[str, str]) -> HashSettings:
        return cls(
            time_cost=_env_int(env, "GARRISON_ARGON2_TIME_COST", 2),
            memory_cost=_env_int(env, "GARRISON_ARGON2_MEMORY_COST", 19_456),
            parallelism=_env_int(env, "GARRISON_ARGON2_PARALLELISM", 1),
            concurrency=_env_int(env, "GARRISON_PASSWORD_HASH_CONCURRENCY", max(1, os.cpu_count() or 1)),
        )


def hash_ceiling(settings: HashSettings, threads: int, seconds: float) -> float:
    """argon2id hashes per second with the server's parameters, ``threads`` at once (GIL released)."""
    hasher = PasswordHasher(
        time_cost=settings.time_cost, memory_cost=settings.memory_cost, parallelism=settings.parallelism
    )
    hasher.hash("warm up the allocator")
    counts = [0] * threads
    deadline = time.monotonic() + seconds

    def work(index: int) -> None:
        while time.monotonic() < deadline:
            hasher.hash(BENCH_PASSWORD)
            counts[index] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=seconds + 30)
    return sum(counts) / (time.monotonic() - started)


# -- the server ----------------------------------------------------------------------------------


class Server:
    """``garrison serve`` in its own process group, always stopped by :meth:`stop`."""

    def __init__(self, env: dict[str, str], workdir: Path, workers: int) -> None:
        self.env = env
        self.workdir = workdir
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pgid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float = 90.0) -> None:
        garrison = BIN / "garrison"
        command = [str(garrison), "serve", "--port", str(self.port), "--workers", str(self.workers)]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own server, fixed arguments)
                command,
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise BenchError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get("/healthz").status_code == 200:
                        return
                time.sleep(0.2)
        raise BenchError(f"the server did not answer /healthz within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        # The first start prints the generated admin password: never repeat it.
        kept = [line for line in text.splitlines() if "password:" not in line]
        return "\n".join(kept[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)  # the group of the process we started (its uvicorn workers)
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # Workers that outlived their parent (SIGKILL) share its process group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


# -- backends ------------------------------------------------------------------------------------


async def _pg_execute(admin_dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OWNED_SETTINGS}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextlib.contextmanager
def backend_environment(backend: str, workdir: Path, args: argparse.Namespace) -> Iterator[dict[str, str]]:
    """The server's environment; a PostgreSQL database and a Redis prefix of our own, cleaned after."""
    env = _clean_env()
    env.update(
        GARRISON_DATA_DIR=str(workdir / "var"),
        GARRISON_LOG_LEVEL="warning",
        GARRISON_RATE_LIMIT_ENABLED="false",
        GARRISON_ENV="development",
        GARRISON_REGISTRATION="open",
    )
    if backend == "sqlite":
        env["GARRISON_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        yield env
        return
    database = f"garrison_bench_{secrets.token_hex(4)}"
    prefix = f"bench-{secrets.token_hex(4)}:"
    admin = urlsplit(args.pg_url)
    asyncio.run(_pg_execute(args.pg_url, f'CREATE DATABASE "{database}"'))
    try:
        user = admin.username or "postgres"
        auth = f"{user}:{admin.password}" if admin.password else user
        env["GARRISON_DATABASE_URL"] = (
            f"postgresql+asyncpg://{auth}@{admin.hostname}:{admin.port or 5432}/{database}"
        )
        env["GARRISON_REDIS_URL"] = args.redis_url
        env["GARRISON_REDIS_PREFIX"] = prefix
        yield env
    finally:
        try:
            asyncio.run(_pg_execute(args.pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        except Exception as exc:  # report, and go on cleaning
            print(f"warning: could not drop database {database}: {exc}", file=sys.stderr)
        try:
            client = redis.Redis.from_url(args.redis_url, socket_timeout=5)
            keys = list(client.scan_iter(match=prefix + "*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
            client.close()
        except redis.RedisError as exc:
            print(f"warning: could not delete Redis keys {prefix}*: {exc}", file=sys.stderr)


@dataclass(frozen=True, slots=True)
class User:
    username: str
    password: str


def create_users(server: Server, count: int) -> list[User]:
    """``bench`` through the admin CLI (as an operator would), the others by self-registration."""
    garrison = BIN / "garrison"
    done = subprocess.run(  # noqa: S603 (our own CLI, fixed arguments)
        [
            str(garrison),
            "admin",
            "create",
            "--username",
            "bench",
            "--email",
            "bench@example.com",
            "--role",
            "user",
            "--password-stdin",
        ],
        input=BENCH_PASSWORD,
        env=server.env,
        cwd=server.workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"garrison admin create failed: {done.stderr.strip()}")
    users = [User("bench", BENCH_PASSWORD)]
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        for index in range(1, count):
            name = f"bench{index:02d}"
            response = client.post(
                "/api/v1/auth/register",
                json={"username": name, "email": f"{name}@example.com", "password": BENCH_PASSWORD},
            )
            if response.status_code != 201:
                raise BenchError(f"registering {name} failed: {response.status_code} {response.text[:300]}")
            users.append(User(name, BENCH_PASSWORD))
    return users


def login(server: Server, user: User) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        response = client.post(
            "/api/v1/auth/login", json={"username": user.username, "password": user.password}
        )
        if response.status_code != 200:
            raise BenchError(f"login as {user.username} failed: {response.status_code} {response.text[:300]}")
        body: dict[str, Any] = response.json()
        return body


# -- load clients --------------------------------------------------------------------------------

_LUA_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  local relogins, logins = 0, 0
  for _, t in ipairs(threads) do
    relogins = relogins + (t:get("relogins") or 0)
    logins = logins + (t:get("logins_ok") or 0)
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"relogins":%d,"logins_ok":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, relogins, logins))
end
"""

_LUA_SETUP = r"""
threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  if tokens ~= nil then thread:set("rt", tokens[counter]) end
  table.insert(threads, thread)
end
"""

_LUA_LOGIN = r"""
function init(args)
  local u = users[((id - 1) % #users) + 1]
  login_body = '{"username":"' .. u[1] .. '","password":"' .. u[2] .. '"}'
end
function request()
  return wrk.format("POST", "/api/v1/auth/login", {["Content-Type"] = "application/json"}, login_body)
end
"""

# One connection per thread, so each thread owns one refresh chain and sends one request at a time.
_LUA_REFRESH = r"""
function init(args)
  local u = users[((id - 1) % #users) + 1]
  login_body = '{"username":"' .. u[1] .. '","password":"' .. u[2] .. '"}'
  token = rt
  relogins = 0
  logins_ok = 0
  need_login = false
  sent_login = false
end
function request()
  local headers = {["Content-Type"] = "application/json"}
  sent_login = need_login
  if need_login then
    return wrk.format("POST", "/api/v1/auth/login", headers, login_body)
  end
  return wrk.format("POST", "/api/v1/auth/refresh", headers, '{"refresh_token":"' .. token .. '"}')
end
function response(status, headers, body)
  if status == 200 then
    local t = string.match(body, '"refresh_token":"([^"]+)"')
    if t then token = t; need_login = false else need_login = true end
    if sent_login then logins_ok = logins_ok + 1 end
  else
    if not sent_login then relogins = relogins + 1 end
    need_login = true
  end
end
"""


def _lua_table(users: list[User]) -> str:
    rows = ", ".join("{" + json.dumps(u.username) + ", " + json.dumps(u.password) + "}" for u in users)
    return f"users = {{ {rows} }}\n"


def _lua_strings(name: str, values: list[str]) -> str:
    return f"{name} = {{ {', '.join(json.dumps(v) for v in values)} }}\n"


class Clients:
    """Builds and runs load-generator processes: wrk (when chosen) or bench/loadgen.py."""

    def __init__(self, kind: str, server: Server, workdir: Path, timeout: float) -> None:
        self.kind = kind
        self.server = server
        self.workdir = workdir
        self.timeout = timeout
        self._scripts = 0

    def _script(self, text: str) -> Path:
        self._scripts += 1
        path = self.workdir / f"load{self._scripts}.lua"
        path.write_text(text, encoding="utf-8")
        return path

    # Command builders: (argv, parser of its stdout)

    def _wrk(
        self, script: str, threads: int, connections: int, seconds: int, path: str, extra: list[str]
    ) -> list[str]:
        return [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "--timeout",
            f"{int(self.timeout)}s",
            "-s",
            str(self._script(_LUA_SETUP + script + _LUA_DONE)),
            *extra,
            self.server.url + path,
        ]

    def _loadgen(
        self, mode: str, connections: int, seconds: int, warmup: float, extra: list[str]
    ) -> list[str]:
        return [
            sys.executable,
            str(LOADGEN),
            "--url",
            self.server.url,
            "--mode",
            mode,
            "--connections",
            str(connections),
            "--duration",
            str(seconds),
            "--warmup",
            str(warmup),
            "--timeout",
            str(self.timeout),
            *extra,
        ]

    def _users_file(self, users: list[User]) -> Path:
        path = self.workdir / "users.json"
        path.write_text(json.dumps([asdict(u) for u in users]), encoding="utf-8")
        return path

    def run(self, argv: list[str], seconds: float) -> str:
        done = subprocess.run(  # noqa: S603 (our own load generators)
            argv,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=seconds + 4 * self.timeout + 60,
            check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return done.stdout

    @staticmethod
    def parse(output: str, client: str, connections: int) -> LoadResult:
        if client == "python":
            data = json.loads(output.strip().splitlines()[-1])
            return LoadResult(
                client="python",
                connections=connections,
                requests=int(data["requests"]),
                ok=int(data["ok"]),
                errors=int(data["errors"]),
                rps=float(data["rps"]),
                p50_ms=float(data["p50_ms"]),
                p99_ms=float(data["p99_ms"]),
                max_ms=float(data["max_ms"]),
                relogins=int(data.get("relogins", 0)),
                error_kinds=dict(data.get("error_kinds", {})),
                client_cpu_pct=float(data["client_cpu_pct"]),
            )
        line = next((x for x in output.splitlines() if x.startswith("BENCH_JSON ")), None)
        if line is None:
            raise BenchError(f"wrk printed no result:\n{output[-2000:]}")
        data = json.loads(line.removeprefix("BENCH_JSON "))
        seconds = max(int(data["duration_us"]) / 1e6, 1e-9)
        kinds = {k: int(data[k]) for k in ("connect", "read", "write", "status", "timeout") if int(data[k])}
        errors = sum(kinds.values())
        # Re-logins after a broken refresh chain are requests too, but not refreshes.
        ok = int(data["requests"]) - int(data["status"]) - int(data["logins_ok"])
        return LoadResult(
            client="wrk",
            connections=connections,
            requests=int(data["requests"]),
            ok=ok,
            errors=errors,
            rps=ok / seconds,
            p50_ms=int(data["p50_us"]) / 1000,
            p99_ms=int(data["p99_us"]) / 1000,
            max_ms=int(data["max_us"]) / 1000,
            relogins=int(data["relogins"]),
            error_kinds=kinds,
        )

    def command(
        self,
        mode: str,
        *,
        connections: int,
        seconds: int,
        warmup: float = 0.0,
        path: str = "",
        token: str | None = None,
        users: list[User] | None = None,
        client: str | None = None,
        extra: list[str] | None = None,
    ) -> tuple[list[str], str]:
        """The argv of one load run (``warmup`` only applies to loadgen.py) and its client name."""
        client = client or self.kind
        if client == "python":
            args = list(extra or [])
            if mode == "get":
                args += ["--path", path]
                if token:
                    args += ["--token", token]
            else:
                args += ["--users-file", str(self._users_file(users or []))]
            return self._loadgen(mode, connections, seconds, warmup, args), "python"
        if mode == "get":
            headers = ["-H", f"Authorization: Bearer {token}"] if token else []
            return self._wrk("", 1, connections, seconds, path, headers), "wrk"
        assert users
        if mode == "login":
            return self._wrk(_lua_table(users) + _LUA_LOGIN, connections, connections, seconds, "", []), "wrk"
        # refresh: one chain per thread, started by a login now (outside the measured run)
        tokens = [login(self.server, users[i % len(users)])["refresh_token"] for i in range(connections)]
        script = _lua_table(users) + _lua_strings("tokens", tokens) + _LUA_REFRESH
        return self._wrk(script, connections, connections, seconds, "", []), "wrk"

    def measure(self, mode: str, *, connections: int, seconds: int, warmup: int, **kw: Any) -> LoadResult:
        """Warm up, then one measured run (wrk needs a separate warm-up run; loadgen does both)."""
        if self.kind == "wrk" and warmup > 0:
            argv, _ = self.command(mode, connections=connections, seconds=warmup, **kw)
            self.run(argv, warmup)
            argv, client = self.command(mode, connections=connections, seconds=seconds, **kw)
        else:
            argv, client = self.command(mode, connections=connections, seconds=seconds, warmup=warmup, **kw)
        return self.parse(self.run(argv, seconds + warmup), client, connections)

    def background(self, argv: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603 (our own load generators)
            argv, cwd=self.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )


# -- one backend ---------------------------------------------------------------------------------


def wait_for_quiet(limit: float, busy_pct: float = 15.0) -> float:
    """Wait up to ``limit`` seconds for the machine to idle (others' work skews every figure)."""
    deadline = time.monotonic() + limit
    busy = idle_check()
    while busy > busy_pct and time.monotonic() < deadline:
        print(f"waiting for a quiet machine ({busy:.0f}% of a core busy) ...", flush=True)
        time.sleep(3)
        busy = idle_check(2.0)
    return busy


def run_backend(backend: str, args: argparse.Namespace, client_kind: str) -> BackendReport:
    if args.wait_quiet > 0:
        wait_for_quiet(args.wait_quiet)
    report = BackendReport(
        backend=backend,
        workers=args.workers,
        client=client_kind,
        duration=args.duration,
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        idle_busy_pct=idle_check(),
    )
    if report.idle_busy_pct > 20:
        report.notes.append(
            f"the machine was {report.idle_busy_pct:.0f}% of a core busy before the run: figures are skewed"
        )
    with tempfile.TemporaryDirectory(prefix=f"garrison-bench-{backend}-") as tmp:
        workdir = Path(tmp)
        with backend_environment(backend, workdir, args) as env:
            server = Server(env, workdir, args.workers)
            try:
                print(f"[{backend}] starting the server on {server.url} (workers={args.workers})", flush=True)
                server.start()
                measure_all(report, server, Clients(client_kind, server, workdir, args.timeout), args)
            finally:
                server.stop()
    others = [r.cpu.other for r in report.rows if r.cpu is not None]
    if others and max(others) > 25:
        report.notes.append(
            f"up to {max(others):.0f}% of a core went to other programs during a phase (see 'other'): "
            "the figures of that phase are skewed; run again on a quiet machine (--wait-quiet)"
        )
    if args.workers > 1:
        uneven = [
            r.key
            for r in report.rows
            if r.key in THROUGHPUT_PHASES and r.cpu is not None and _uneven(r.cpu.server_split, args.workers)
        ]
        if uneven:
            report.notes.append(
                f"the keep-alive connections landed unevenly on the {args.workers} workers in: "
                f"{', '.join(uneven)} (one process did most of the work; see 'server CPU by process')"
            )
    judge(report)
    return report


def _uneven(split: tuple[float, ...], workers: int) -> bool:
    """The busiest worker did more than three times the work of the least busy one."""
    busy = sorted(split, reverse=True)[:workers]  # the supervisor process idles
    if len(busy) < workers:
        return bool(busy) and busy[0] > 20
    return busy[0] > 20 and busy[0] > 3 * max(busy[-1], 1.0)


def measure_all(report: BackendReport, server: Server, clients: Clients, args: argparse.Namespace) -> None:
    backend = report.backend
    hashing = HashSettings.from_env(server.env)
    users = create_users(server, max(args.login_connections, args.refresh_connections, 2))
    access = login(server, users[0])["access_token"]
    d, w, conns, phases = args.duration, args.warmup, args.connections, args.phases

    def phase(key: str, label: str, mode: str, connections: int, **kw: Any) -> Row:
        print(f"[{backend}] {label} ...", flush=True)
        before = cpu_sample(server.pgid)
        load = clients.measure(mode, connections=connections, seconds=d, warmup=w, **kw)
        row = Row(key, label, load=load, cpu=cpu_share(before, cpu_sample(server.pgid)))
        if client_bound(load):
            row.note = "client-bound (loadgen at 100% CPU): the server may do more"
        report.rows.append(row)
        return row

    if "healthz" in phases:
        phase("healthz", "GET /healthz (framework ceiling)", "get", conns, path="/healthz")
    if "session" in phases:
        phase("session", f"GET {SESSION_PATH}", "get", conns, path=SESSION_PATH, token=access)
    if "me" in phases:
        phase("me", f"GET {ME_PATH}", "get", conns, path=ME_PATH, token=access)
    if "refresh" in phases:
        refresh = phase(
            "refresh", "POST /api/v1/auth/refresh", "refresh", args.refresh_connections, users=users
        )
        if refresh.load and refresh.load.relogins:
            refresh.note = f"{refresh.load.relogins} broken chains (re-logged in)"

    ceiling = 0.0
    if "login" in phases or "flood" in phases:
        # The hash ceiling: argon2id with the server's parameters, as many threads as the server hashes.
        threads = hashing.concurrency * args.workers
        print(f"[{backend}] argon2id hash ceiling ({threads} threads) ...", flush=True)
        before = cpu_sample(server.pgid)
        ceiling = hash_ceiling(hashing, threads, min(float(d), 5.0))
        report.rows.append(
            Row(
                "hash",
                f"argon2id hash ceiling ({threads} threads, t={hashing.time_cost} "
                f"m={hashing.memory_cost} p={hashing.parallelism})",
                value=ceiling,
                cpu=cpu_share(before, cpu_sample(server.pgid)),
            )
        )
    if "login" in phases:
        phase("login", "POST /api/v1/auth/login", "login", args.login_connections, users=users)
    if "flood" not in phases:
        return

    # Session latency from a paced probe (always loadgen.py): idle, then during a login flood.
    def probe() -> LoadResult:
        argv, _ = clients.command(
            "get",
            connections=args.probe_connections,
            seconds=d,
            warmup=0.5,
            path=SESSION_PATH,
            token=access,
            client="python",
            extra=["--rate", str(args.probe_rate), "--nice", str(args.probe_nice)],
        )
        return clients.parse(clients.run(argv, d + 1), "python", args.probe_connections)

    label = f"session probe, idle ({args.probe_rate:g}/s paced)"
    print(f"[{backend}] {label} ...", flush=True)
    before = cpu_sample(server.pgid)
    idle_probe = probe()
    report.rows.append(
        Row("probe_idle", label, load=idle_probe, cpu=cpu_share(before, cpu_sample(server.pgid)))
    )

    label = f"session probe during login flood ({args.login_connections} conns)"
    print(f"[{backend}] {label} ...", flush=True)
    flood_seconds = d + w + 2
    argv, flood_client = clients.command(
        "login", connections=args.login_connections, seconds=flood_seconds, users=users
    )
    before = cpu_sample(server.pgid)
    flood = clients.background(argv)
    try:
        time.sleep(max(w, 1))  # let the flood fill the hashing pool first
        flood_probe = probe()
        out, err = flood.communicate(timeout=flood_seconds + 4 * args.timeout + 60)
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.wait(timeout=30)
    cpu = cpu_share(before, cpu_sample(server.pgid))
    if flood.returncode != 0:
        raise BenchError(f"the login flood failed: {err.strip()[-2000:]}")
    flood_load = clients.parse(out, flood_client, args.login_connections)
    report.rows.append(Row("probe_flood", label, load=flood_probe, cpu=cpu))
    report.rows.append(
        Row(
            "flood",
            "  the login flood itself (its whole run)",
            load=flood_load,
            note=f"{100 * flood_load.rps / ceiling:.0f}% of the hash ceiling" if ceiling else "",
        )
    )


def client_bound(load: LoadResult) -> bool:
    """loadgen.py saturated its core: the figure is the client's limit, not the server's."""
    return load.client == "python" and (load.client_cpu_pct or 0) > 90


def judge(report: BackendReport) -> None:
    """One verdict per target whose phases ran."""

    def load(key: str) -> LoadResult | None:
        row = report.row(key)
        return row.load if row else None

    def status(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    healthz, session = load("healthz"), load("session")
    if healthz and session:
        ratio = session.rps / healthz.rps if healthz.rps else 0.0
        bound = client_bound(healthz) or client_bound(session)
        report.verdicts.append(
            Verdict(
                "session / healthz req/s",
                f"{100 * ratio:.1f}%" + (" (client-bound)" if bound else ""),
                f">= {100 * SESSION_RATIO_TARGET:.0f}%",
                "n/a" if bound else status(ratio >= SESSION_RATIO_TARGET),
            )
        )
    refresh = load("refresh")
    if refresh:
        report.verdicts.append(
            Verdict(
                "refresh req/s",
                f"{refresh.rps:.0f}/s",
                f">= {REFRESH_TARGET_RPS:.0f}/s on PostgreSQL",
                status(refresh.rps >= REFRESH_TARGET_RPS) if report.backend == "postgres" else "n/a",
            )
        )
    hash_row, login_load = report.row("hash"), load("login")
    if hash_row and hash_row.value and login_load:
        ratio = login_load.rps / hash_row.value
        report.verdicts.append(
            Verdict(
                "login / hash ceiling",
                f"{100 * ratio:.1f}%",
                f">= {100 * LOGIN_RATIO_TARGET:.0f}%",
                status(ratio >= LOGIN_RATIO_TARGET),
            )
        )
    flood = load("probe_flood")
    if flood:
        report.verdicts.append(
            Verdict(
                "session p99 during login flood",
                f"{flood.p99_ms:.1f} ms" + (f" ({flood.errors} errors)" if flood.errors else ""),
                f"< {FLOOD_P99_TARGET_MS:.0f} ms",
                status(flood.p99_ms < FLOOD_P99_TARGET_MS and flood.errors == 0),
            )
        )


# -- output --------------------------------------------------------------------------------------


def render(report: BackendReport) -> str:
    head = (
        f"Garrison benchmark: backend={report.backend} workers={report.workers} client={report.client} "
        f"duration={report.duration}s  ({report.started}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()})"
    )
    lines = [head, "=" * len(head)]
    lines.append(
        f"{'phase':<58} {'conns':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
        f"   cpu% srv  clnt db+rd   irq other"
    )
    for row in report.rows:
        cpu = row.cpu.text() if row.cpu else ""
        if row.load is not None:
            load = row.load
            lines.append(
                f"{row.label:<58} {load.connections:>5} {load.rps:>9.1f} {load.p50_ms:>8.2f} "
                f"{load.p99_ms:>8.2f} {load.errors:>6}        {cpu}"
            )
            if load.error_kinds:
                lines.append(f"{'':<10}errors: {json.dumps(load.error_kinds)}")
        else:
            lines.append(
                f"{row.label:<58} {'':>5} {row.value or 0:>9.1f} {'':>8} {'':>8} {'':>6}        {cpu}"
            )
        if row.cpu is not None and len(row.cpu.server_split) > 1:
            split = " + ".join(f"{x:.0f}" for x in row.cpu.server_split)
            lines.append(f"{'':<10}server CPU by process: {split} (% of a core)")
        if row.note:
            lines.append(f"{'':<10}note: {row.note}")
    lines.append("")
    lines.append(f"{'target':<34} {'measured':>22}  {'wanted':<26} result")
    for verdict in report.verdicts:
        lines.append(f"{verdict.name:<34} {verdict.figure:>22}  {verdict.target:<26} {verdict.status}")
    for note in report.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--duration", type=int, default=5, help="measured seconds per phase (1..120)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured seconds before each phase (0..30)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (1..8)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--connections", type=int, default=16, help="for healthz, session and me")
    parser.add_argument("--refresh-connections", type=int, default=16, help="refresh chains at once")
    parser.add_argument("--login-connections", type=int, default=8, help="logins at once (flood too)")
    parser.add_argument("--probe-rate", type=float, default=100.0, help="session probe req/s (paced)")
    parser.add_argument("--probe-connections", type=int, default=8)
    parser.add_argument("--probe-nice", type=int, default=-5, help="probe priority (negative needs root)")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres", help="admin DSN")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated subset of {','.join(PHASES)} (default: all)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before each backend, wait up to this many seconds for other work on the machine to stop",
    )
    parser.add_argument("--json-out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120 or not 0 <= args.warmup <= 30 or not 1 <= args.workers <= 8:
        parser.error("--duration must be 1..120, --warmup 0..30 and --workers 1..8")
    for name in ("connections", "refresh_connections", "login_connections", "probe_connections"):
        if not 1 <= getattr(args, name) <= 256:
            parser.error(f"--{name.replace('_', '-')} must be 1..256")
    if not 0 <= args.wait_quiet <= 3600:
        parser.error("--wait-quiet must be 0..3600 seconds")
    if not 0 < args.probe_rate <= 5000:
        parser.error("--probe-rate must be in (0, 5000]")
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = sorted(set(args.phases) - set(PHASES))
    if unknown or not args.phases:
        parser.error(f"--phases: unknown {unknown}; choose from {','.join(PHASES)}")
    try:
        check_loopback(args.pg_url)
        check_loopback(args.redis_url)
    except BenchError as exc:
        parser.error(str(exc))
    return args


def _terminate(signum: int, _frame: object) -> None:
    # Further signals must not cut the cleanup short (it is bounded: server stop <= 30 s, DB drop 10 s).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through every finally: server stop, cleanup


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)  # also when started in the background (inherited SIG_IGN)
    client_kind = args.client
    if client_kind == "auto":
        client_kind = "wrk" if shutil.which("wrk") else "python"
    elif client_kind == "wrk" and not shutil.which("wrk"):
        print("error: wrk is not installed; use --client python", file=sys.stderr)
        return 2
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    reports: list[BackendReport] = []
    started = time.monotonic()
    try:
        for backend in backends:
            report = run_backend(backend, args, client_kind)
            reports.append(report)
            print("\n" + render(report) + "\n", flush=True)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted: the server was stopped and the temporary database and keys removed", file=sys.stderr
        )
        return 130
    finally:
        if args.json_out is not None and reports:
            args.json_out.write_text(json.dumps([asdict(r) for r in reports], indent=2), encoding="utf-8")
    if len(reports) > 1:
        print("Summary")
        for report in reports:
            verdicts = ", ".join(f"{v.name}: {v.figure} {v.status}" for v in report.verdicts)
            print(f"  {report.backend} (workers={report.workers}): {verdicts}")
    print(f"total time {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
