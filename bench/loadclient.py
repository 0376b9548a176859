"""Load client: many websocket connections in one asyncio process, counting what arrives.

A minimal client (handshake, masked text frames out, unmasked frames in) on raw asyncio
protocols, so that the client costs far less per delivery than the servers it measures.
Each event's data carries ``seq`` and ``sent`` (epoch seconds). Every connection counts
its event frames; one in ``sample_every`` also checks every ``seq`` (loss, duplicates,
order) and measures latency, which keeps the client's cost per delivery low.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import struct
import time
from dataclasses import dataclass, field

_SEQ = re.compile(rb'"seq":\s*(\d+)')
_SENT = re.compile(rb'"sent":\s*([0-9.]+)')


@dataclass
class Tally:
    """What all connections received."""

    deliveries: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    latencies: list[float] = field(default_factory=list)
    last_at: float = 0.0
    closed: int = 0
    seen: list[set[int]] = field(default_factory=list)


class _Connection(asyncio.Protocol):
    def __init__(self, index: int, tally: Tally, ready: asyncio.Future[None], sample: bool):
        self.index, self.tally, self.ready, self.sample = index, tally, ready, sample
        self.buffer = b""
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send_text(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        header = (
            bytes([0x81, 0x80 | len(data)]) if len(data) < 126 else bytes([0x81, 0xFE]) + struct.pack(">H", len(data))
        )
        self.transport.write(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                self.ready.set_exception(ConnectionError(head[:80].decode(errors="replace")))
                return
            self.upgraded, self.buffer = True, rest
        self._parse()

    def _parse(self) -> None:
        buffer, tally, now = self.buffer, self.tally, time.time()
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    break
                length, start = struct.unpack(">H", buffer[2:4])[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    break
                length, start = struct.unpack(">Q", buffer[2:10])[0], 10
            if len(buffer) < start + length:
                break
            payload, buffer = buffer[start : start + length], buffer[start + length :]
            if opcode == 0x8:
                tally.closed += 1
                continue
            if opcode == 0x9:  # the server's keepalive ping: answer as any browser does
                mask = os.urandom(4)
                pong = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + pong)
                continue
            if opcode != 0x1:
                continue
            if not self.sample:
                if b'"seq"' in payload:
                    tally.deliveries += 1
                    tally.last_at = now
                else:
                    self.frames.put_nowait(payload)
                continue
            seq = _SEQ.search(payload)
            if seq is None:
                self.frames.put_nowait(payload)
                continue
            number = int(seq.group(1))
            seen = tally.seen[self.index]
            if number in seen:
                tally.duplicates += 1
                continue
            if seen and number < max(seen):
                tally.out_of_order += 1
            seen.add(number)
            tally.deliveries += 1
            tally.last_at = now
            sent = _SENT.search(payload)
            if sent:
                tally.latencies.append((now - float(sent.group(1))) * 1000)
        self.buffer = buffer


async def open_connections(
    host: str, port: int, path: str, count: int, subscribe: str | None, tally: Tally, sample_every: int = 10
) -> list[_Connection]:
    """Open ``count`` connections (optionally subscribing each to a topic); return once all are ready."""
    loop = asyncio.get_running_loop()
    connections = []
    tally.seen = [set() for _ in range(count)]

    async def open_one(index: int) -> _Connection:
        ready: asyncio.Future[None] = loop.create_future()
        _transport, conn = await loop.create_connection(
            lambda: _Connection(index, tally, ready, index % sample_every == 0), host, port
        )
        key = base64.b64encode(os.urandom(16)).decode()
        conn.transport.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        if subscribe:
            await asyncio.wait_for(conn.frames.get(), 30)  # hello
            conn.send_text(json.dumps({"type": "subscribe", "topic": subscribe}))
            reply = await asyncio.wait_for(conn.frames.get(), 30)
            if b'"subscribed"' not in reply:
                raise ConnectionError(reply[:200])
        return conn

    for start in range(0, count, 200):
        connections += await asyncio.gather(*(open_one(i) for i in range(start, min(count, start + 200))))
    return connections


def percentile(values: list[float], fraction: float) -> float | None:
    """Return the ``fraction`` percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]
