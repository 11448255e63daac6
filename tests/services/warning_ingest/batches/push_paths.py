"""Running a push test on both paths: the fast path for small pushes
(services.warning_ingest.small_push) and the batch machinery (batches.py).

A module opts in with::

    from tests.services.warning_ingest.batches.push_paths import push_path  # noqa: F401
    pytestmark = pytest.mark.usefixtures("push_path")
"""

from __future__ import annotations

import pytest

from services.warning_ingest.batches import small_push


@pytest.fixture(params=["small", "batch"])
def push_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every push of the test takes the fast path (`small`, up to its usual
    threshold) or none does (`batch`)."""
    if request.param == "batch":
        monkeypatch.setattr(small_push, "SMALL_PUSH_MAX", -1)
    return str(request.param)
