"""A per-client limit for public endpoints: a fixed one-minute window counted in Redis, so every web process
shares it; while Redis is away each process counts on its own rather than letting everything through."""

import threading
import time

from fastapi import Request

from core.errors import TooManyRequests
from core.queue import redis_from_url

WINDOW_SECONDS = 60


class RateLimiter:
    def __init__(self, redis_url: str, scope: str, per_minute: int) -> None:
        self.redis = redis_from_url(redis_url)
        self.scope = scope
        self.per_minute = per_minute
        self._local: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, client: str) -> tuple[bool, int]:
        """Counts one request; (allowed, seconds until the window ends)."""
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        retry_after = max(1, int((window + 1) * WINDOW_SECONDS - now))
        try:
            key = f"tehuibao:ratelimit:{self.scope}:{client}:{window}"
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS + 5)
            count = int(pipe.execute()[0])
        except Exception:  # noqa: BLE001 - Redis away: this process's own count still limits
            with self._lock:
                self._local = {k: v for k, v in self._local.items() if k[1] >= window}
                count = self._local.get((client, window), 0) + 1
                self._local[(client, window)] = count
        return count <= self.per_minute, retry_after

    def check(self, request: Request) -> None:
        client = request.client.host if request.client else "unknown"
        allowed, retry_after = self.hit(client)
        if not allowed:
            raise TooManyRequests(
                f"查询过于频繁，请 {retry_after} 秒后再试",
                retry_after=retry_after,
            )
