"""The cache layer: one small interface, a Redis implementation and an in-process one.

Picked by ``GARRISON_REDIS_URL``. Rate-limit counters, the session-state cache and the revocation
channel build on it. Nothing stored here is authoritative: the database is, so flushing the cache can
never revive what the database has ended.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import redis.asyncio as aioredis

from garrison.config import Settings

Subscription = AbstractAsyncContextManager[AsyncIterator[bytes]]
FINAL = b"!"

# Atomic in Redis: scripts run without interleaving.
_SET_UNLESS_FINAL = """
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, 1) == ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

# KEYS: the keys; ARGV: the final marker, then value and TTL (ms) of each key, then channel and message
# (an empty channel: publish nothing). A final value is always written, any other unless the key is final.
_WRITE_STATES = """
local final = ARGV[1]
for i, key in ipairs(KEYS) do
  local value = ARGV[2 * i]
  local write = string.sub(value, 1, 1) == final
  if not write then
    local current = redis.call('GET', key)
    write = not (current and string.sub(current, 1, 1) == final)
  end
  if write then redis.call('SET', key, value, 'PX', ARGV[2 * i + 1]) end
end
local channel = ARGV[2 * #KEYS + 2]
if channel ~= '' then redis.call('PUBLISH', channel, ARGV[2 * #KEYS + 3]) end
return #KEYS
"""

Entry = tuple[str, bytes, float]  # key, value, TTL in seconds


class Cache(Protocol):
    """What every cache backend offers. Keys are strings, values bytes, TTLs in seconds."""

    backend: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    async def delete(self, *keys: str) -> int: ...

    async def set_unless_final(self, key: str, value: bytes, ttl: float) -> bool:
        """Set ``key`` unless it holds a final value (one starting with ``FINAL``); True if set.

        Final values record facts that never change back, like an ended session: a writer holding an
        older reading can then never overwrite them, whatever the order of writes.
        """
        ...

    async def write_states(self, entries: Sequence[Entry], channel: str, message: bytes) -> None:
        """Write each entry, then publish ``message`` on ``channel`` (unless ``channel`` is empty).

        A final value is always written; any other as by :meth:`set_unless_final`. On Redis this is
        one script: one round trip, and no reader sees the message before the values.
        """
        ...

    async def incr(self, key: str, ttl: float) -> int:
        """Add one to a counter; its TTL starts at the first increment (fixed-window rate limits)."""
        ...

    async def publish(self, channel: str, message: bytes) -> None: ...

    def subscribe(self, channel: str) -> Subscription:
        """``async with cache.subscribe(ch) as messages: async for m in messages: ...``."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class MemoryCache:
    """In-process cache for a single process: bounded, LRU-evicted, with local pub/sub."""

    backend = "memory"

    def __init__(self, *, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock
        self._subscribers: dict[str, set[asyncio.Queue[bytes]]] = {}

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires = entry[1]
        if expires is not None and expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def _store(self, key: str, value: bytes, expires: float | None) -> None:
        self._entries[key] = (value, expires)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return None if entry is None else entry[0]

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._store(key, value, None if ttl is None else self._clock() + ttl)

    async def delete(self, *keys: str) -> int:
        return sum(1 for key in keys if self._entries.pop(key, None) is not None)

    async def set_unless_final(self, key: str, value: bytes, ttl: float) -> bool:
        current = self._live(key)
        if current is not None and current[0].startswith(FINAL):
            return False
        self._store(key, value, self._clock() + ttl)
        return True

    async def write_states(self, entries: Sequence[Entry], channel: str, message: bytes) -> None:
        for key, value, ttl in entries:
            if value.startswith(FINAL):
                await self.set(key, value, ttl)
            else:
                await self.set_unless_final(key, value, ttl)
        if channel:
            await self.publish(channel, message)

    async def incr(self, key: str, ttl: float) -> int:
        entry = self._live(key)
        expires: float | None
        if entry is None:
            count, expires = 1, self._clock() + ttl
        else:
            count, expires = int(entry[0]) + 1, entry[1]
        self._store(key, str(count).encode(), expires)
        return count

    async def publish(self, channel: str, message: bytes) -> None:
        for queue in self._subscribers.get(channel, ()):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._subscribers.setdefault(channel, set()).add(queue)

        async def messages() -> AsyncIterator[bytes]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._subscribers[channel].discard(queue)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._entries.clear()


class RedisCache:
    """Redis-backed cache shared by every instance; all keys and channels carry ``prefix``."""

    backend = "redis"

    def __init__(self, url: str, *, prefix: str = "garrison:", timeout: float = 2.0) -> None:
        self._redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, health_check_interval=30
        )
        self._prefix = prefix
        self._set_unless_final = self._redis.register_script(_SET_UNLESS_FINAL)
        self._write_states = self._redis.register_script(_WRITE_STATES)

    def _key(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self._key(key))
        # The client runs without decode_responses, so values arrive as bytes.
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self._redis.set(self._key(key), value, px=None if ttl is None else max(1, int(ttl * 1000)))

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._redis.delete(*(self._key(key) for key in keys)))

    async def set_unless_final(self, key: str, value: bytes, ttl: float) -> bool:
        done = await self._set_unless_final(
            keys=[self._key(key)], args=[value, max(1, int(ttl * 1000)), FINAL]
        )
        return bool(done)

    async def write_states(self, entries: Sequence[Entry], channel: str, message: bytes) -> None:
        args: list[bytes | str | int] = [FINAL]
        for _key, value, ttl in entries:
            args += [value, max(1, int(ttl * 1000))]
        args += [self._key(channel) if channel else "", message]
        await self._write_states(keys=[self._key(key) for key, _, _ in entries], args=args)

    async def incr(self, key: str, ttl: float) -> int:
        name = self._key(key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.pexpire(name, max(1, int(ttl * 1000)), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def publish(self, channel: str, message: bytes) -> None:
        await self._redis.publish(self._key(channel), message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[bytes]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._key(channel))

        async def messages() -> AsyncIterator[bytes]:
            async for message in pubsub.listen():
                data = message.get("data")
                if message.get("type") == "message" and isinstance(data, bytes):
                    yield data

        try:
            yield messages()
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def create_cache(settings: Settings) -> Cache:
    if settings.redis_url:
        return RedisCache(
            settings.redis_url, prefix=settings.redis_prefix, timeout=settings.readiness_timeout
        )
    return MemoryCache()
