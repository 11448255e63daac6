"""Fixtures of the registry tests."""

from __future__ import annotations

import pytest

from shared.pii import PiiProtector
from shared.settings import get_settings


@pytest.fixture(scope="module")
def protector() -> PiiProtector:
    return PiiProtector.from_secret(get_settings().secret_bytes())
