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
from collections import deque
from functools import lru_cache

from limits import RateLimitItem, parse

from shared.errors import TooManyRequests
from shared.settings import get_settings

# The clock of the windows (tests move it).
_monotonic = time.monotonic


class MovingWindows:
    """One moving window per key: the instants of its last `amount` admitted
    requests. A request is admitted while fewer than `amount` fall within the
    last `seconds`; each check is a few deque operations in this process.

    Why not `limits`' own async MemoryStorage: it starts an expiry task per
    hit that hands each key's list to a worker thread (`asyncio.to_thread`),
    and inserts every hit at the front of a list; at a few hundred requests a
    second that thread hop cost a one-record push about as much CPU as its
    statements (issue 17). The rule is the same moving window.
    """

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def hit(self, key: tuple[str, str], *, amount: int, seconds: float) -> float | None:
        """Count one request of `key`: None if admitted, else the seconds until
        the oldest request in the window leaves it."""
        now = _monotonic()
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            if len(self._hits) > 4096:
                self._forget_idle(now, seconds)
        while hits and hits[0] <= now - seconds:
            hits.popleft()
        if len(hits) >= amount:
            return hits[0] + seconds - now
        hits.append(now)
        return None

    def _forget_idle(self, now: float, seconds: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - seconds]:
            del self._hits[key]


@lru_cache(maxsize=1)
def _windows() -> MovingWindows:
    # One store for the process: the four apps of `warnex serve` share the limit.
    return MovingWindows()


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
    wait = _windows().hit((kind, str(principal_id)), amount=item.amount, seconds=item.get_expiry())
    if wait is None:
        return
    retry_after = max(1, math.ceil(wait))
    raise TooManyRequests(
        f"Too many requests for this {kind}; retry after {retry_after} s.",
        headers={"Retry-After": str(retry_after)},
    )


def reset_rate_limits() -> None:
    """Forget every window (tests, and settings reloads)."""
    _windows.cache_clear()
    _item.cache_clear()
