"""Rate limits (moving window, library ``limits``): in Redis when configured, so every instance shares
the counters; in process memory otherwise (then each worker counts on its own).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from garrison.config import Settings
from garrison.errors import AppError


class RateLimited(AppError):
    status = 429
    type = "rate-limited"
    title = "Too many requests"


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        storage: Storage
        if settings.redis_url:
            uri = (
                "async+" + settings.redis_url
                if not settings.redis_url.startswith("async+")
                else settings.redis_url
            )
            storage = RedisStorage(
                uri,
                implementation="redispy",
                key_prefix=settings.redis_prefix + "rl",
                socket_timeout=settings.readiness_timeout,
                socket_connect_timeout=settings.readiness_timeout,
            )
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)
        self._limits: dict[str, RateLimitItem] = {}

    def _item(self, spec: str) -> RateLimitItem:
        item = self._limits.get(spec)
        if item is None:
            item = self._limits[spec] = parse(spec)
        return item

    async def hit(self, spec: str, scope: str, key: str) -> None:
        """Count one request of ``scope`` for ``key`` against ``spec`` (e.g. "10/minute"); 429 when over."""
        if not self.enabled:
            return
        item = self._item(spec)
        if await self._limiter.hit(item, scope, key):
            return
        stats = await self._limiter.get_window_stats(item, scope, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"Too many requests; retry in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
            extra={"retry_after": retry_after},
        )
