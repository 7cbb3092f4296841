#!/usr/bin/env python3
"""A small async HTTP load generator for the Garrison benchmarks (httpx, one process, bounded).

It keeps ``--connections`` workers busy for ``--warmup`` + ``--duration`` seconds, then stops by itself,
and prints one JSON object on stdout: requests, errors, req/s, p50/p99/max latency, its own CPU use.
Only requests that start after the warm-up and finish before the end of the window are counted.

Modes:
  get      GET --path with optional ``--token`` (Bearer).
  login    POST /api/v1/auth/login; worker i logs in as user ``i mod len(users)`` (``--users-file``).
  refresh  each worker logs in once (before the window), then refreshes its own chain with the newest
           refresh token; after a failure it logs in again (counted as an error and a re-login).

``--rate R`` paces the workers to R requests/second in total (open loop): latency is then measured
from each request's *scheduled* start, so a stalled server is not hidden by a stalled client.

Only loopback targets are accepted. Run ``loadgen.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
LOGIN_PATH = "/api/v1/auth/login"
REFRESH_PATH = "/api/v1/auth/refresh"


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str


@dataclass(slots=True)
class Window:
    """The measured window; requests outside it are warm-up or spill-over and are not counted."""

    start: float
    end: float
    latencies: list[float] = field(default_factory=list)  # seconds
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    relogins: int = 0

    def inside(self, started: float, finished: float) -> bool:
        return started >= self.start and finished <= self.end

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list (0.0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"refusing to load {url!r}: only loopback targets are allowed")


async def _login(client: httpx.AsyncClient, user: Credentials) -> str:
    """Log in and return the refresh token (raises on any failure)."""
    response = await client.post(LOGIN_PATH, json={"username": user.username, "password": user.password})
    response.raise_for_status()
    token = response.json()["refresh_token"]
    if not isinstance(token, str):
        raise ValueError("login answered without a refresh token")
    return token


Step = Callable[[], Awaitable[int]]  # one request; returns the HTTP status


class Worker:
    """One connection's worth of requests; ``prepare`` runs before the window (e.g. a login)."""

    def __init__(self, args: argparse.Namespace, client: httpx.AsyncClient, index: int) -> None:
        self.args = args
        self.client = client
        self.index = index
        users: list[Credentials] = args.users
        self.user = users[index % len(users)] if users else None
        self.refresh_token: str | None = None
        self.headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}

    async def prepare(self) -> None:
        if self.args.mode == "refresh":
            assert self.user is not None
            self.refresh_token = await _login(self.client, self.user)

    async def step(self) -> int:
        mode = self.args.mode
        if mode == "get":
            return (await self.client.get(self.args.path, headers=self.headers)).status_code
        assert self.user is not None
        if mode == "login":
            body = {"username": self.user.username, "password": self.user.password}
            return (await self.client.post(LOGIN_PATH, json=body)).status_code
        response = await self.client.post(REFRESH_PATH, json={"refresh_token": self.refresh_token})
        if response.status_code == 200:
            self.refresh_token = response.json()["refresh_token"]
        return response.status_code

    async def recover(self, window: Window) -> None:
        """After a failed refresh the chain is spent (or revoked): start a new one."""
        if self.args.mode == "refresh":
            assert self.user is not None
            window.relogins += 1
            try:
                self.refresh_token = await _login(self.client, self.user)
            except (httpx.HTTPError, ValueError, KeyError):
                window.error("relogin_failed")


async def _run_worker(worker: Worker, window: Window, warm_start: float, rate: float, workers: int) -> None:
    sent = 0
    while True:
        now = time.perf_counter()
        if rate > 0:
            # Worker i owns every workers-th slot of a global schedule of `rate` requests a second.
            scheduled = warm_start + (sent * workers + worker.index) / rate
            if scheduled >= window.end:
                return
            if scheduled > now:
                await asyncio.sleep(scheduled - now)
            started = scheduled
        else:
            if now >= window.end:
                return
            started = now
        sent += 1
        try:
            status = await worker.step()
            kind = None if status == 200 else f"http_{status}"
        except httpx.TimeoutException:
            kind = "timeout"
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
        except (ValueError, KeyError):
            kind = "bad_body"
        finished = time.perf_counter()
        if window.inside(started, finished):
            if kind is None:
                window.latencies.append(finished - started)
            else:
                window.error(kind)
        if kind is not None:
            await worker.recover(window)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
    timeout = httpx.Timeout(args.timeout)
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=timeout) as client:
        workers = [Worker(args, client, i) for i in range(args.connections)]
        # Logins before the window, a few at a time (they are slow by design).
        semaphore = asyncio.Semaphore(4)

        async def prepare(worker: Worker) -> None:
            async with semaphore:
                await worker.prepare()

        await asyncio.wait_for(asyncio.gather(*(prepare(w) for w in workers)), timeout=args.timeout * 4)
        warm_start = time.perf_counter()
        window = Window(start=warm_start + args.warmup, end=warm_start + args.warmup + args.duration)
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        wall_before = time.perf_counter()
        tasks = [_run_worker(w, window, warm_start, args.rate, len(workers)) for w in workers]
        # Hard bound: the window, plus one request timeout and a re-login for the stragglers.
        await asyncio.wait_for(
            asyncio.gather(*tasks), timeout=args.warmup + args.duration + 2 * args.timeout + 5
        )
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.perf_counter() - wall_before
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    latencies = sorted(window.latencies)
    result: dict[str, Any] = {
        "client": "python",
        "mode": args.mode,
        "connections": args.connections,
        "rate": args.rate,
        "seconds": args.duration,
        "requests": len(latencies) + window.errors,
        "ok": len(latencies),
        "errors": window.errors,
        "error_kinds": window.error_kinds,
        "relogins": window.relogins,
        "rps": len(latencies) / args.duration,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] * 1000) if latencies else 0.0,
        "client_cpu_pct": 100 * cpu / wall if wall > 0 else 0.0,
    }
    if args.samples:
        result["samples_ms"] = [round(x * 1000, 3) for x in latencies]
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="base URL, loopback only, e.g. http://127.0.0.1:8000")
    parser.add_argument("--mode", choices=("get", "login", "refresh"), default="get")
    parser.add_argument("--path", default="/healthz", help="path for --mode get")
    parser.add_argument("--token", default=None, help="Bearer access token for --mode get")
    parser.add_argument("--users-file", default=None, help='JSON list of {"username","password"}')
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before the window")
    parser.add_argument("--rate", type=float, default=0.0, help="total req/s (open loop); 0 = closed loop")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    parser.add_argument("--nice", type=int, default=0, help="scheduling priority of this process")
    parser.add_argument("--samples", action="store_true", help="include every latency in the output")
    args = parser.parse_args(argv)
    check_loopback(args.url)
    if not 1 <= args.connections <= 1024:
        parser.error("--connections must be 1..1024")
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be in (0, 600] and --warmup in [0, 60]")
    users: list[Credentials] = []
    if args.users_file:
        with open(args.users_file, encoding="utf-8") as handle:
            users = [Credentials(u["username"], u["password"]) for u in json.load(handle)]
    if args.mode in ("login", "refresh") and not users:
        parser.error(f"--mode {args.mode} needs --users-file")
    args.users = users
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.nice:
        with contextlib.suppress(OSError):  # not allowed: run at the default priority
            os.setpriority(os.PRIO_PROCESS, 0, args.nice)
    try:
        import uvloop  # optional speed-up of the client; the project's venv has it
    except ImportError:
        result = asyncio.run(run(args))
    else:
        result = uvloop.run(run(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
