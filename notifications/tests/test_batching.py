"""A Batch reads the keys of concurrent callers at once, and never answers a caller from a read already under way."""

from __future__ import annotations

import asyncio
import threading

import pytest

from notifications.batching import Batch

# The reads run through database_sync_to_async, which closes stale connections around them.
pytestmark = pytest.mark.django_db


async def test_concurrent_callers_share_one_read() -> None:
    """A hundred callers at once cost one read of all their keys."""
    calls: list[list[int]] = []

    def read(keys: list[int]) -> dict[int, int]:
        calls.append(sorted(keys))
        return {key: key * 2 for key in keys}

    batch: Batch[int, int] = Batch(read)
    assert await asyncio.gather(*(batch.get(n) for n in range(100))) == [n * 2 for n in range(100)]
    assert calls == [list(range(100))]


async def test_a_caller_during_a_read_waits_for_the_next_one() -> None:
    """Who asks while a read runs gets the next read's answer: at least as new as its request."""
    started, release = threading.Event(), threading.Event()
    reads = 0

    def read(keys: list[str]) -> dict[str, int]:
        nonlocal reads
        reads += 1
        started.set()
        assert release.wait(10)
        return dict.fromkeys(keys, reads)

    batch: Batch[str, int] = Batch(read)
    first = asyncio.ensure_future(batch.get("a"))
    assert await asyncio.to_thread(started.wait, 10)
    second = asyncio.ensure_future(batch.get("a"))
    await asyncio.sleep(0)  # the second caller registers while the first read holds
    release.set()
    assert await asyncio.wait_for(asyncio.gather(first, second), 10) == [1, 2]


async def test_a_failed_read_fails_its_callers_and_the_next_one_runs() -> None:
    """An error reaches the callers of that read; the batch goes on serving."""
    answers = iter([RuntimeError("database gone"), {"k": 1}])

    def read(keys: list[str]) -> dict[str, int]:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    batch: Batch[str, int] = Batch(read)
    with pytest.raises(RuntimeError, match="database gone"):
        await batch.get("k")
    assert await batch.get("k") == 1
