"""Run the channel layer's coroutines from sync code on one long-lived event loop.

``async_to_sync(group_send)`` from plain sync code builds a new event loop, and so a
new Redis connection, on every call (several milliseconds). Instead each process keeps
one loop in a daemon thread, and so one channel layer connection; a forked child
(a Celery prefork worker) starts its own on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
    """Run ``coroutine`` on the process's bridge loop and return its result (or raise).

    Past ``timeout`` the coroutine is cancelled (so it cannot still publish later) and
    ``TimeoutError`` is raised.
    """
    future = asyncio.run_coroutine_threadsafe(coroutine, _running_loop())
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise


def _running_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="hub-bridge", daemon=True).start()
        return _loop


def _forget_parent_loop() -> None:
    # The thread that ran the parent's loop does not exist in a forked child.
    global _loop, _lock
    _loop = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_parent_loop)
