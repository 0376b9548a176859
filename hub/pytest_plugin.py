"""Pytest plugin (loaded from pytest.ini): gives the suite a Redis and a private namespace.

With ``REDIS_URL`` unset it starts an embedded Redis before Django reads its settings.
Each run gets its own key prefix and Celery queue, so runs can share one Redis.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from notifications.embedded_redis import EmbeddedRedis

_server: EmbeddedRedis | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: Any, parser: Any, args: Any) -> None:
    """Start the embedded Redis if needed and choose this run's prefix and queue."""
    global _server
    if not os.environ.get("REDIS_URL"):
        state = Path(os.environ.get("HUB_STATE_DIR", Path(__file__).resolve().parent.parent / ".hub"))
        _server = EmbeddedRedis(state / f"test-redis-{os.getpid()}")
        os.environ["REDIS_URL"] = _server.start()
    namespace = f"hubtest{os.getpid()}"
    # Files written by jobs go to a folder of this run, removed at the end.
    os.environ.setdefault("HUB_JOB_FILES_DIR", tempfile.mkdtemp(prefix=f"{namespace}-job-files-"))
    os.environ.setdefault("HUB_REDIS_PREFIX", namespace)
    os.environ.setdefault("CELERY_TASK_DEFAULT_QUEUE", namespace)
    os.environ.setdefault("HUB_REALTIME_QUEUE", f"{namespace}-realtime")
    # Chat rooms keep 100 events in production; the replay tests send 200 to one.
    os.environ.setdefault("HUB_TOPIC_HISTORY", "chat.{room}=250")


def pytest_unconfigure(config: Any) -> None:
    """Stop the embedded Redis and remove this run's job files."""
    files = os.environ.get("HUB_JOB_FILES_DIR", "")
    if os.path.basename(files).startswith(f"hubtest{os.getpid()}-job-files-"):
        shutil.rmtree(files, ignore_errors=True)
    if _server is not None:
        _server.stop()
        _server.remove_files()
