"""Small asyncio primitives for what every connection holds: a queue and a flag, without asyncio's deques.

``asyncio.Queue`` keeps three deques and an ``Event`` (about 3 KB), ``asyncio.Event`` a
deque (about 0.7 KB). An idle connection needs neither: these hold two empty slots.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

__all__ = ["ChannelQueue", "Flag"]


class ChannelQueue:
    """A channel's bounded queue for its one reader; an inbox that overflowed takes nothing more.

    The part of ``asyncio.Queue`` a channel uses, without its three deques and its Event
    (about 3 KB per queue): an idle connection's queue is two empty slots.
    """

    __slots__ = ("maxsize", "inbox", "overflowed", "_items", "_waiter")

    def __init__(self, maxsize: int = 0, inbox: bool = False):
        self.maxsize = maxsize
        self.inbox = inbox
        self.overflowed = False  # an inbox: told to close; any other channel: dropping until it drains
        self._items: collections.deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def qsize(self) -> int:
        """Return how many items wait."""
        return len(self._items) if self._items is not None else 0

    def empty(self) -> bool:
        """Tell whether nothing waits."""
        return self._items is None

    def put_nowait(self, item: Any) -> None:
        """Queue ``item``, or raise ``asyncio.QueueFull`` once ``maxsize`` items wait."""
        if not self.offer(item):
            raise asyncio.QueueFull

    def offer(self, item: Any) -> bool:
        """Queue ``item`` and return True, or return False once ``maxsize`` items wait (the fan-out's one call)."""
        items = self._items
        if items is None:
            items = self._items = collections.deque()
        elif 0 < self.maxsize <= len(items):
            return False
        items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        return True

    def put_beside(self, item: Any) -> None:
        """Queue ``item`` past the bound: the connection's own websocket events, never dropped."""
        if self._items is None:
            self._items = collections.deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def peek(self) -> Any:
        """Return the next item without taking it, or None."""
        return self._items[0] if self._items is not None else None

    def get_nowait(self) -> Any:
        """Return the next item, or raise ``asyncio.QueueEmpty``."""
        items = self._items
        if items is None:
            raise asyncio.QueueEmpty
        item = items.popleft()
        if not items:
            self._items = None
        return item

    async def get(self) -> Any:
        """Wait for the next item and return it; a channel has one reader at a time."""
        while self._items is None:
            if self._waiter is not None:
                raise RuntimeError("a channel queue has one reader; another get() is waiting")
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                if self._waiter is waiter:
                    self._waiter = None
        return self.get_nowait()


class Flag:
    """``asyncio.Event``'s ``set``, ``clear``, ``is_set`` and ``wait``, holding no deque while nobody waits."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        """Tell whether the flag is set."""
        return self._set

    def set(self) -> None:
        """Set the flag and wake every waiter."""
        if self._set:
            return
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        """Unset the flag: later ``wait`` calls block until ``set``."""
        self._set = False

    async def wait(self) -> bool:
        """Return True once the flag is set (at once if it is)."""
        if self._set:
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True
