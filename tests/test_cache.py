"""The cache contract, run on the in-process cache always and on Redis in the PostgreSQL + Redis pass."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from garrison.cache import FINAL, Cache, MemoryCache, RedisCache
from tests.fixtures.backends import BACKEND, REDIS_URL


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


BACKENDS = ["memory"] + (["redis"] if BACKEND == "postgres" else [])


@pytest.fixture(params=BACKENDS)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    implementation: Cache
    if request.param == "redis":
        implementation = RedisCache(REDIS_URL, prefix=f"garrison-test:{uuid.uuid4().hex}:")
    else:
        implementation = MemoryCache()
    yield implementation
    await implementation.close()


async def test_set_get_delete(cache: Cache) -> None:
    assert await cache.get("missing") is None
    await cache.set("k", b"value")
    assert await cache.get("k") == b"value"
    assert await cache.delete("k", "absent") == 1
    assert await cache.get("k") is None


async def test_values_expire(cache: Cache) -> None:
    await cache.set("short", b"1", ttl=0.2)
    await cache.set("long", b"2", ttl=60)
    for _ in range(50):
        if await cache.get("short") is None:
            break
        await asyncio.sleep(0.05)
    assert await cache.get("short") is None
    assert await cache.get("long") == b"2"


async def test_incr_counts_in_a_fixed_window(cache: Cache) -> None:
    assert [await cache.incr("hits", ttl=60) for _ in range(3)] == [1, 2, 3]
    assert await cache.incr("other", ttl=60) == 1


async def test_concurrent_incr_loses_no_increment(cache: Cache) -> None:
    results = await asyncio.gather(*(cache.incr("burst", ttl=60) for _ in range(50)))
    assert sorted(results) == list(range(1, 51))


async def test_publish_reaches_subscribers(cache: Cache) -> None:
    async with cache.subscribe("events") as messages:
        iterator = aiter(messages)
        receiving = asyncio.ensure_future(anext(iterator))
        await asyncio.sleep(0.05)
        await cache.publish("other-channel", b"not for us")
        await cache.publish("events", b"revoked:123")
        assert await asyncio.wait_for(receiving, timeout=5) == b"revoked:123"


async def test_ping(cache: Cache) -> None:
    await cache.ping()


async def test_memory_ttl_follows_the_injected_clock() -> None:
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    await cache.set("k", b"v", ttl=30)
    assert await cache.incr("n", ttl=10) == 1
    clock.now += 29
    assert await cache.get("k") == b"v"
    assert await cache.incr("n", ttl=10) == 1  # the 10 s window ended: a new one starts
    clock.now += 2
    assert await cache.get("k") is None


async def test_memory_cache_is_bounded() -> None:
    cache = MemoryCache(max_entries=3)
    for key in "abcd":
        await cache.set(key, b"1")
    assert await cache.get("a") is None
    assert [await cache.get(k) for k in "bcd"] == [b"1", b"1", b"1"]


async def test_final_values_cannot_be_overwritten_by_set_unless_final(cache: Cache) -> None:
    assert await cache.set_unless_final("s", b"active-v1", ttl=60)
    assert await cache.set_unless_final("s", b"active-v2", ttl=60)
    assert await cache.get("s") == b"active-v2"
    await cache.set("s", FINAL + b"ended", ttl=60)
    assert not await cache.set_unless_final("s", b"stale-active", ttl=60)
    assert await cache.get("s") == FINAL + b"ended"
    assert await cache.set_unless_final("fresh", b"x", ttl=60)


async def test_write_states_writes_final_values_keeps_them_and_publishes(cache: Cache) -> None:
    await cache.set("ended", FINAL + b"revoked", ttl=60)
    async with cache.subscribe("events") as messages:
        iterator = aiter(messages)
        receiving = asyncio.ensure_future(anext(iterator))
        await asyncio.sleep(0.05)
        await cache.write_states(
            [("ended", b"stale-active", 60), ("a", b"active", 60), ("b", FINAL + b"logout", 60)],
            "events",
            b"ended,a,b",
        )
        assert await asyncio.wait_for(receiving, timeout=5) == b"ended,a,b"
    assert await cache.get("ended") == FINAL + b"revoked"
    assert await cache.get("a") == b"active"
    assert await cache.get("b") == FINAL + b"logout"
    await cache.write_states([("b", b"active-again", 60)], "", b"")
    assert await cache.get("b") == FINAL + b"logout"
