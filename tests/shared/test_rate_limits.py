"""Too many requests from one principal answer 429 with Retry-After (API.md
conventions), per principal: another caller is not held back."""

from __future__ import annotations

import httpx
import pytest

from shared.settings import reset_settings
from tests.services.warning_ingest.ingest_helpers import department_headers, staff_headers


async def test_a_user_over_the_limit_gets_429_with_retry_after(
    client: httpx.AsyncClient, session, low_limits
) -> None:
    busy = await staff_headers(session)
    other = await staff_headers(session)
    statuses = [
        (await client.get("/identification/v1/cases", headers=busy)).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 200]

    refused = await client.get("/identification/v1/cases", headers=busy)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["status"] == 429

    # Another user of the same role and scope is counted on their own.
    assert (await client.get("/identification/v1/cases", headers=other)).status_code == 200


async def test_a_department_client_has_its_own_limit(
    client: httpx.AsyncClient, session, low_limits
) -> None:
    headers = await department_headers(session, "civil_affairs")
    statuses = [
        (await client.get("/ingest/v1/feeds", headers=headers)).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


async def test_requests_without_a_token_are_refused_before_counting(
    client: httpx.AsyncClient, low_limits
) -> None:
    statuses = {(await client.get("/identification/v1/cases")).status_code for _ in range(5)}
    assert statuses == {401}


def test_a_malformed_limit_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.settings import get_settings

    monkeypatch.setenv("WARNEX_USER_RATE_LIMIT", "lots")
    reset_settings()
    try:
        with pytest.raises(ValueError, match="rate limit"):
            get_settings()
    finally:
        monkeypatch.undo()
        reset_settings()


def test_the_window_moves_with_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared import rate_limits

    now = [1000.0]
    monkeypatch.setattr(rate_limits, "_monotonic", lambda: now[0])
    windows = rate_limits.MovingWindows()
    key = ("client", "a")
    assert [windows.hit(key, amount=2, seconds=60) for _ in range(2)] == [None, None]
    now[0] += 10
    # Full: the oldest request leaves the window 50 s from now.
    assert windows.hit(key, amount=2, seconds=60) == pytest.approx(50)
    assert windows.hit(("client", "b"), amount=2, seconds=60) is None
    now[0] += 50  # the first two are exactly a window old: out
    assert windows.hit(key, amount=2, seconds=60) is None
    assert windows.hit(key, amount=2, seconds=60) is None
    assert windows.hit(key, amount=2, seconds=60) == pytest.approx(60)
