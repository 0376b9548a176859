"""One server process's part of presence: its connections' counts, written to Redis in batches and kept alive.

Sessions call :meth:`Tracker.add` and :meth:`Tracker.remove` without waiting (no Redis
round trip on the connect path). One writer task per event loop sends what changed, one
script per topic per batch: connections that open and close within a batch cancel out,
a member's change goes at once, visitor-only changes wait up to ``VISITOR_WINDOW`` so a
busy room gets one ``visitors`` frame for many arrivals. Every ``HUB_PRESENCE_TIMEOUT / 5``
seconds the writer renews the process's entry in each topic (it lives three of those
periods, so two beats may be late) and sweeps the processes whose entry expired: a
SIGKILLed process's members leave within four periods, 0.8 × ``HUB_PRESENCE_TIMEOUT``. If
its own entry was swept (a stall, a Redis restart), it sends its whole state again.

The tracker also keeps, per topic, a copy of the members (a :class:`Mirror`), brought up to
date from the changes the process relays and from the log in Redis, so that a subscriber's
snapshot costs one small script and no re-encoding of every member.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
import weakref
from typing import Any

from redis.exceptions import RedisError

from notifications import presence_store, protocol
from notifications.conf import hub_settings

__all__ = ["Mirror", "Tracker", "tracker"]

logger = logging.getLogger(__name__)

VISITOR = "-"  # the uid under which visitors' connections are counted
VISITOR_WINDOW = 0.5  # seconds visitor-only changes wait, to be sent together
PAGE_SIZE = 500  # members per presence frame
BATCH_ITEMS = 500  # users per script call: bounds how long one call holds Redis, and one message's size
BEATS_PER_TIMEOUT = 5  # heartbeats per HUB_PRESENCE_TIMEOUT; an entry lives three
_RETRY_SECONDS = 1.0


class Mirror:
    """This process's copy of a topic's presence at ``(epoch, seq)``: member JSON by user id, and visitors."""

    __slots__ = ("epoch", "seq", "visitors", "members", "_pages", "_pages_at")

    def __init__(self, epoch: str, seq: int, visitors: int, members: dict[str, str]):
        self.epoch, self.seq, self.visitors, self.members = epoch, seq, visitors, members
        self._pages: list[str] = []
        self._pages_at = -1

    def apply(self, seq: int, kind: str, body: Any) -> bool:
        """Apply change ``seq`` if it is the next one; return False when it is not (a gap, or seen)."""
        if seq != self.seq + 1:
            return False
        if kind == "join":
            self.members[str(body["id"])] = protocol.encode(body)
        elif kind == "leave":
            self.members.pop(str(body["id"]), None)
        elif kind == "visitors":
            self.visitors = int(body)
        self.seq = seq
        return True

    def catch_up(self, entries: list[list[Any]]) -> bool:
        """Apply the changes after ``seq`` among ``entries`` (``[seq, kind, body]``, in order); False on a gap."""
        # all() stops at the first gap; changes at or below seq are skipped.
        return all(seq <= self.seq or self.apply(seq, kind, body) for seq, kind, body in entries)

    def pages(self, topic: str) -> list[str]:
        """Return the ``presence`` frames of this state, ``PAGE_SIZE`` members each (encoded once per change)."""
        if self._pages_at != self.seq:
            members = list(self.members.values())
            chunks = [members[start : start + PAGE_SIZE] for start in range(0, len(members), PAGE_SIZE)] or [[]]
            head = '{"type":"presence","topic":%s,"members":[' % json.dumps(topic)
            self._pages = [
                '%s%s],"visitors":%d,"page":%d,"pages":%d}' % (head, ",".join(chunk), self.visitors, n, len(chunks))
                for n, chunk in enumerate(chunks, 1)
            ]
            self._pages_at = self.seq
        return self._pages


class Tracker:
    """This process's presence connections on one event loop, and the task that writes them to Redis."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.name = "%d-%s" % (os.getpid(), uuid.uuid4().hex[:12])
        self.local: dict[str, dict[str, int]] = {}  # topic -> uid -> connections here
        self.members: dict[str, dict[str, str]] = {}  # topic -> uid -> member JSON
        self.pending: dict[str, dict[str, int]] = {}  # topic -> uid -> change not yet written
        self.applied: set[str] = set()  # topics where Redis holds this process's entry
        self.resync: set[str] = set()  # topics whose whole state must be written again
        self.mirrors: dict[str, Mirror] = {}
        self._wake = asyncio.Event()
        self._urgent = asyncio.Event()  # a member's change waits: no visitor window
        self._task = loop.create_task(self._run())

    # --- what sessions call ---

    def add(self, topic: str, uid: str, member: str) -> None:
        """Count one more connection of ``uid`` (``VISITOR`` for a visitor) to ``topic``."""
        held = self.local.setdefault(topic, {})
        held[uid] = held.get(uid, 0) + 1
        if uid != VISITOR:
            self.members.setdefault(topic, {})[uid] = member
        self._change(topic, uid, 1)

    def remove(self, topic: str, uid: str) -> None:
        """Count one connection of ``uid`` to ``topic`` fewer."""
        held = self.local.get(topic)
        if not held or uid not in held:
            return
        held[uid] -= 1
        if held[uid] <= 0:
            del held[uid]
            self.members.get(topic, {}).pop(uid, None)
        if not held:
            del self.local[topic]
            self.members.pop(topic, None)
            self.mirrors.pop(topic, None)
        self._change(topic, uid, -1)

    async def snapshot(self, topic: str) -> Mirror:
        """Return this process's copy of ``topic``'s presence, brought up to date with Redis (one script)."""
        mirror = self.mirrors.get(topic)
        known = (mirror.epoch, mirror.seq) if mirror is not None else None
        reading = await presence_store.read(topic, known)
        mirror = self.mirrors.get(topic)  # other sessions may have moved it on meanwhile
        if reading.full:
            if mirror is None or mirror.epoch != reading.epoch or mirror.seq < reading.seq:
                members = {str(json.loads(text)["id"]): text for text in reading.entries}
                mirror = Mirror(reading.epoch, reading.seq, reading.visitors, members)
        elif mirror is None or mirror.epoch != reading.epoch or known is None or mirror.seq < known[1]:
            self.mirrors.pop(topic, None)
            return await self.snapshot(topic)  # the copy went away meanwhile: read the whole state
        elif not mirror.catch_up([_entry(text) for text in reading.entries]):
            self.mirrors.pop(topic, None)
            return await self.snapshot(topic)
        if topic in self.local:
            self.mirrors[topic] = mirror
        return mirror

    def note(self, message: dict[str, Any]) -> None:
        """Bring the topic's copy up to date with a relayed ``hub.presence`` message (once per process)."""
        if message.get("_noted"):
            return
        message["_noted"] = True
        mirror = self.mirrors.get(message.get("topic", ""))
        if mirror is not None and mirror.epoch == message.get("epoch") and message.get("first", 0) <= mirror.seq + 1:
            mirror.catch_up(message.get("changes") or [])

    # --- the writer ---

    def _change(self, topic: str, uid: str, delta: int) -> None:
        changes = self.pending.setdefault(topic, {})
        changes[uid] = changes.get(uid, 0) + delta
        if uid != VISITOR:
            self._urgent.set()
        self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        period = float(hub_settings.HUB_PRESENCE_TIMEOUT) / BEATS_PER_TIMEOUT
        next_beat = loop.time() + period
        while True:
            try:
                # asyncio.timeout, not wait_for: see layers.py (a cancellation must end this loop).
                async with asyncio.timeout(max(0.0, next_beat - loop.time())):
                    await self._wake.wait()
                if not self._urgent.is_set():
                    # Only visitor counts changed: gather a window of them into one change.
                    async with asyncio.timeout(VISITOR_WINDOW):
                        await self._urgent.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            self._urgent.clear()
            beat = loop.time() >= next_beat
            if beat:
                next_beat = loop.time() + period
            try:
                await self._flush(period * 3, beat)
            except RedisError as error:
                logger.warning("Could not write presence to Redis (%s); retrying in %.0f s", error, _RETRY_SECONDS)
                await asyncio.sleep(_RETRY_SECONDS)
                self._wake.set()
                self._urgent.set()

    async def _flush(self, lives: float, beat: bool) -> None:
        """Write every topic's pending changes (on a beat, renew this process's entries for ``lives`` seconds too).

        Raises the last RedisError; the topics that failed are written whole next time.
        """
        batch, self.pending = self.pending, {}
        topics = set(batch) | self.resync | (self.applied if beat else set())
        failure = None
        for topic in sorted(topics):
            try:
                await self._write(topic, batch.get(topic, {}), lives)
            except RedisError as error:
                self.resync.add(topic)  # its changes are in self.local: the whole state goes next time
                failure = error
        if failure is not None:
            raise failure

    async def _write(self, topic: str, changes: dict[str, int], lives: float) -> None:
        """Write ``topic``'s changes (at most ``BATCH_ITEMS`` users per script), or its whole state when needed."""
        if topic not in self.resync:
            items = [(uid, delta, self._member(topic, uid)) for uid, delta in changes.items() if delta]
            if not items and topic not in self.applied:
                return
            for start in range(0, max(len(items), 1), BATCH_ITEMS):
                part = items[start : start + BATCH_ITEMS]
                outcome = await presence_store.apply(topic, self.name, lives, "delta", topic in self.applied, part)
                if outcome == "resync":
                    break
                self._settle(topic, outcome)
            else:
                return
            logger.warning("This process's presence in %s was swept (a stall or a Redis restart); resending it", topic)
        # The whole state as held now, which includes what is still pending for the topic.
        self.pending.pop(topic, None)
        items = [(uid, n, self._member(topic, uid)) for uid, n in self.local.get(topic, {}).items()]
        self.resync.add(topic)
        outcome = await presence_store.apply(topic, self.name, lives, "full", False, items)
        self.resync.discard(topic)
        self._settle(topic, outcome)

    def _settle(self, topic: str, outcome: str) -> None:
        if outcome == "present":
            self.applied.add(topic)
        else:
            self.applied.discard(topic)

    def _member(self, topic: str, uid: str) -> str:
        return self.members.get(topic, {}).get(uid, "")


def _entry(text: str) -> list[Any]:
    """Decode a log entry: ``[seq, kind, body]``."""
    entry: list[Any] = json.loads(text)
    return entry


_trackers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Tracker] = weakref.WeakKeyDictionary()


def tracker() -> Tracker:
    """Return the tracker of the running event loop (each server process has one), starting it if needed."""
    loop = asyncio.get_running_loop()
    found = _trackers.get(loop)
    if found is None:
        found = _trackers[loop] = Tracker(loop)
    return found
