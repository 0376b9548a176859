"""One blocking read for all the connections that ask at about the same time.

A crowd of connects (a reconnect storm) would otherwise cost one thread hop and one
database round trip each on the single thread-sensitive executor, where they queue. A
:class:`Batch` gathers the keys asked for while its previous read runs and reads them all
in the next ``database_sync_to_async`` call: one hop per round trip, however many ask.
A ``read`` that is a coroutine function is awaited on the loop instead, with no hop.
"""

from __future__ import annotations

import asyncio
import inspect
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from channels.db import database_sync_to_async

__all__ = ["Batch"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_KEYS = 500  # keys per call of ``read``: SQL "IN" lists and Redis MGETs stay small


@dataclass
class _Pending:
    """What one event loop is gathering: the keys of the next read and the future of its answer."""

    keys: set[Any] = field(default_factory=set)
    answer: asyncio.Future[dict[Any, Any]] | None = None
    reader: asyncio.Task[None] | None = None


class Batch(Generic[K, V]):
    """Answers ``get(key)`` from ``read(keys) -> {key: value}``, run in a thread (awaited if async) for many keys.

    A caller is answered by a read that starts after it asked, never by one already under
    way: what it gets is at least as new as its request (a write committed before the
    request is seen).
    """

    def __init__(self, read: Callable[[list[K]], dict[K, V]] | Callable[[list[K]], Awaitable[dict[K, V]]]):
        self._read = read
        self._on_loop = inspect.iscoroutinefunction(read)
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pending] = weakref.WeakKeyDictionary()

    async def get(self, key: K) -> V:
        """Return ``read``'s value for ``key``; raise what ``read`` raised (KeyError if it left the key out)."""
        return (await self._ask((key,)))[key]

    async def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        """Return ``read``'s value for each of ``keys``, all from one read; raise as :meth:`get` does."""
        keys = list(keys)
        found = await self._ask(keys)
        return {key: found[key] for key in keys}

    async def _ask(self, keys: Iterable[K]) -> dict[K, V]:
        """Add ``keys`` to the next read; return that read's answer."""
        loop = asyncio.get_running_loop()
        pending = self._loops.get(loop)
        if pending is None:
            pending = self._loops[loop] = _Pending()
        if pending.answer is None:
            pending.answer = loop.create_future()
        pending.keys.update(keys)
        answer = pending.answer
        if pending.reader is None or pending.reader.done():
            pending.reader = loop.create_task(self._read_pending(pending))
        # Shielded: a caller that gives up does not cancel the answer the others wait for.
        return cast(dict[K, V], await asyncio.shield(answer))

    async def _read_pending(self, pending: _Pending) -> None:
        """Read what was asked, then what was asked meanwhile, until nothing waits."""
        while pending.answer is not None:
            answer, keys = pending.answer, list(pending.keys)
            pending.answer, pending.keys = None, set()
            try:
                if self._on_loop:
                    found = await cast(Callable[[list[K]], Awaitable[dict[K, V]]], self._read)(keys)
                else:
                    found = await database_sync_to_async(self._read_all)(keys)
            except Exception as error:
                answer.set_exception(error)
                answer.exception()  # retrieved here too: no warning if every caller gave up
            else:
                answer.set_result(found)

    def _read_all(self, keys: list[K]) -> dict[K, V]:
        found: dict[K, V] = {}
        for chunk in _chunks(keys, MAX_KEYS):
            found.update(cast(Callable[[list[K]], dict[K, V]], self._read)(chunk))
        return found


def _chunks(items: list[K], size: int) -> Iterable[list[K]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
