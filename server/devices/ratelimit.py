"""Fixed-window attempt counters in the cache (Redis in every real deployment) bounding activation-code guessing.

Each window has its own key (``...:<window number>``), so the counter is one atomic INCR on Redis: there is no
read-then-write race between concurrent requests, and no window where a key expires between creating and counting
it (the key lives for two windows, longer than it is used). A fixed window lets at most twice the limit through
around a window boundary; docs/security.md counts with that.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Hit:
    count: int
    limit: int
    retry_after: int  # seconds until this window ends

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit


def hit(scope: str, key: str, limit: int, window_seconds: int = 3600, now: float | None = None) -> Hit:
    """Count one attempt for ``scope``/``key`` in the current window and say whether the limit is passed."""
    now = time.time() if now is None else now
    window = int(now // window_seconds)
    cache_key = f"ratelimit:{scope}:{key}:{window}"
    cache.add(cache_key, 0, timeout=2 * window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr (memory pressure): start this window again
        cache.add(cache_key, 1, timeout=2 * window_seconds)
        count = 1
    retry_after = max(1, int((window + 1) * window_seconds - now))
    return Hit(count=count, limit=limit, retry_after=retry_after)


def reset(scope: str, key: str, window_seconds: int = 3600, now: float | None = None) -> None:
    """Forget the current window's count (tests, and IT after a false alarm)."""
    now = time.time() if now is None else now
    cache.delete(f"ratelimit:{scope}:{key}:{int(now // window_seconds)}")
