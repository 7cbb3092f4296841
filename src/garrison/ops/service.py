"""Readiness: can this instance serve requests (database, and Redis when configured)?"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from garrison.cache import Cache
from garrison.db import Database
from garrison.ops.schemas import Check, Readiness


async def _probe(backend: str, ping: Callable[[], Awaitable[None]], seconds: float) -> Check:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(ping(), seconds)
    except Exception as exc:  # any failure means "down"; the class name says which without leaking config
        return Check(status="down", backend=backend, error=type(exc).__name__)
    return Check(status="up", backend=backend, latency_ms=round((time.perf_counter() - started) * 1000, 2))


async def readiness(database: Database, cache: Cache, seconds: float) -> Readiness:
    db_backend = database.engine.dialect.name
    if cache.backend == "redis":
        db_check, redis_check = await asyncio.gather(
            _probe(db_backend, database.ping, seconds), _probe("redis", cache.ping, seconds)
        )
    else:
        db_check = await _probe(db_backend, database.ping, seconds)
        redis_check = Check(status="disabled", backend=cache.backend)
    checks = {"database": db_check, "redis": redis_check}
    ready = all(check.status != "down" for check in checks.values())
    return Readiness(status="ready" if ready else "unavailable", checks=checks)
