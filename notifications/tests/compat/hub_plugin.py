"""Pytest plugin that runs channels-redis' own pub/sub tests on HubChannelLayer.

Loaded by ``upstream/pytest.ini``. It must run before the test module imports
``RedisPubSubChannelLayer``; it points ``TEST_HOSTS`` at ``REDIS_URL`` and marks the tests
of ``differences.INTENTIONAL_DIFFERENCES`` as strict expected failures.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import types
from typing import Any

import channels_redis.pubsub
import pytest

from notifications.layers import HubChannelLayer
from notifications.tests.compat.differences import INTENTIONAL_DIFFERENCES

channels_redis.pubsub.RedisPubSubChannelLayer = HubChannelLayer  # type: ignore[misc]

# Upstream imports async_timeout, which is not among our requirements; on Python 3.11+
# its ``timeout`` is asyncio's (both raise TimeoutError).
if importlib.util.find_spec("async_timeout") is None:
    _shim = types.ModuleType("async_timeout")
    _shim.timeout = asyncio.timeout  # type: ignore[attr-defined]
    sys.modules["async_timeout"] = _shim


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    """Point the upstream tests at this run's Redis; expect the listed differences to fail."""
    hosts = [os.environ.get("REDIS_URL", "redis://localhost:6379")]
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and hasattr(module, "TEST_HOSTS"):
            module.TEST_HOSTS = hosts
        difference = INTENTIONAL_DIFFERENCES.get(f"{item.path.name}::{item.name}")
        if difference is not None:
            item.add_marker(pytest.mark.xfail(strict=True, raises=difference.raises, reason=difference.reason))
