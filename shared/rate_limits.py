"""Requests per principal (API.md: too many requests answer 429 with
Retry-After): a department client's pushes and a user's calls each count
against their own moving window, in this process.

The windows are per process, so N replicas admit up to N times the limit; the
gateway (deploy/nginx.conf) holds the global line. Limits come from settings
(`WARNEX_CLIENT_RATE_LIMIT`, `WARNEX_USER_RATE_LIMIT`, in the `limits`
notation, e.g. `100/second`).
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from shared.errors import TooManyRequests
from shared.settings import get_settings


@lru_cache(maxsize=1)
def _limiter() -> MovingWindowRateLimiter:
    # One store for the process: the four apps of `warnex serve` share the limit.
    return MovingWindowRateLimiter(MemoryStorage())


@lru_cache(maxsize=8)
def _item(spec: str) -> RateLimitItem:
    return parse(spec)


async def check_rate(*, principal_id: object, kind: str) -> None:
    """Count one request of the principal; 429 with Retry-After once its window is full."""
    settings = get_settings()
    spec = settings.client_rate_limit if kind == "client" else settings.user_rate_limit
    if not spec:
        return
    item = _item(spec)
    limiter = _limiter()
    if await limiter.hit(item, kind, str(principal_id)):
        return
    stats = await limiter.get_window_stats(item, kind, str(principal_id))
    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
    raise TooManyRequests(
        f"Too many requests for this {kind}; retry after {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
    )


def reset_rate_limits() -> None:
    """Forget every window (tests, and settings reloads)."""
    _limiter.cache_clear()
    _item.cache_clear()
