"""The parsed compose file, shared by the deploy tests."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.deploy.deploy_helpers import DEPLOY


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))
