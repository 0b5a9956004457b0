"""A tiny per-process TTL cache for small, hot, read-only results (kpis, segments)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TTLCache(Generic[T]):
    """Cache one value per key for ``ttl`` seconds; concurrent misses load it only once."""

    def __init__(
        self, ttl: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 64
    ) -> None:
        self.ttl = ttl
        self.max_keys = max_keys
        self._clock = clock
        self._values: dict[str, tuple[float, T]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        if self.ttl <= 0:
            return await load()
        hit = self._values.get(key)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            hit = self._values.get(key)
            if hit is not None and hit[0] > self._clock():
                return hit[1]
            value = await load()
            now = self._clock()
            if len(self._values) >= self.max_keys:  # keys of runs no longer served
                self._values = {k: v for k, v in self._values.items() if v[0] > now}
                self._locks = {k: v for k, v in self._locks.items() if k in self._values}
            self._values[key] = (now + self.ttl, value)
            return value
