"""Load client: many websocket connections in one asyncio process, counting what arrives.

A minimal client (handshake, masked text frames out, unmasked frames in) on raw asyncio
protocols, so that the client costs far less per delivery than the servers it measures.
Each event's data carries ``seq`` and ``sent`` (epoch seconds). Every connection counts
its event frames; one in ``sample_every`` also checks every ``seq`` (loss, duplicates,
order) and measures latency, which keeps the client's cost per delivery low.

It speaks three dialects (``kind``): the hub's protocol (``?batch=1`` as the bundled
clients ask, so a message may carry several frames, one per line; wait for ``hello``, then
``subscribe``), Socket.IO's (Engine.IO 4 over a websocket: wait for the open packet, send
``40``, wait for the namespace's ``40{...}``; answer the server's ``2`` pings with ``3``),
and the raw reference's (nothing: ready once upgraded).
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

PATHS = {"hub": "/ws/?batch=1", "socketio": "/socket.io/?EIO=4&transport=websocket", "raw": "/"}


@dataclass
class Tally:
    """What all connections received."""

    deliveries: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    latencies: list[float] = field(default_factory=list)
    last_at: float = 0.0
    closed: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    connect_times: list[float] = field(default_factory=list)  # seconds from TCP connect to ready, per connection
    seen: list[set[int]] = field(default_factory=list)


def mask_frame(opcode: int, data: bytes) -> bytes:
    """Return one masked client frame (``opcode`` 0x1 text, 0xA pong) carrying ``data``."""
    mask = os.urandom(4)
    if len(data) < 126:
        header = bytes([0x80 | opcode, 0x80 | len(data)])
    else:
        header = bytes([0x80 | opcode, 0xFE]) + struct.pack(">H", len(data))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def handshake(host: str, port: int, path: str, subprotocols: list[str] | None = None,
              session: str | None = None) -> bytes:  # fmt: skip
    """Return a websocket upgrade request; with ``session``, a browser's: its session cookie and Origin."""
    key = base64.b64encode(os.urandom(16)).decode()
    offered = f"Sec-WebSocket-Protocol: {', '.join(subprotocols)}\r\n" if subprotocols else ""
    if session is not None:
        offered += f"Cookie: sessionid={session}\r\nOrigin: http://{host}:{port}\r\n"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{offered}\r\n"
    ).encode()


class Connection(asyncio.Protocol):
    """One client socket: frames with ``"seq"`` are counted in the tally, others queued in ``frames``."""

    def __init__(self, index: int, tally: Tally, sample: bool):
        self.index, self.tally, self.sample = index, tally, sample
        self.buffer = b""
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        self.frames.put_nowait(b"")  # wakes a handshake waiting for a frame

    def send_text(self, text: str) -> None:
        self.transport.write(mask_frame(0x1, text.encode()))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                self.frames.put_nowait(b"!" + head[:80])
                self.transport.close()
                return
            self.upgraded, self.buffer = True, rest
            self.frames.put_nowait(b"")  # the upgrade itself: the raw dialect is ready here
        self._parse()

    def on_event(self, payload: bytes, now: float) -> None:
        """Count one event frame (overridden by the reconnect-storm client)."""
        tally = self.tally
        if not self.sample:
            tally.deliveries += 1
            tally.last_at = now
            return
        seq = _SEQ.search(payload)
        number = int(seq.group(1))
        seen = tally.seen[self.index]
        if number in seen:
            tally.duplicates += 1
            return
        if seen and number < max(seen):
            tally.out_of_order += 1
        seen.add(number)
        tally.deliveries += 1
        tally.last_at = now
        sent = _SENT.search(payload)
        if sent:
            tally.latencies.append((now - float(sent.group(1))) * 1000)

    def on_frame(self, payload: bytes) -> None:
        """Queue a frame that is not an event (hello, subscribed, reset...) for the handshake to read."""
        self.frames.put_nowait(payload)

    def _parse(self) -> None:
        buffer, now = self.buffer, time.time()
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
                self.tally.closed += 1
                continue
            if opcode == 0x9:  # the server's keepalive ping: answer as any browser does
                self.transport.write(mask_frame(0xA, payload))
                continue
            if opcode != 0x1:
                continue
            for line in payload.split(b"\n"):  # the hub's batches: a frame per line
                if b'"seq"' in line:
                    self.on_event(line, now)
                elif line == b"2":  # Engine.IO's ping
                    self.send_text("3")
                else:
                    self.on_frame(line)
        self.buffer = buffer


async def next_frame(conn: Connection, timeout: float) -> bytes:
    """Return the connection's next queued frame; raise ConnectionError on a refusal or a drop."""
    frame = await asyncio.wait_for(conn.frames.get(), timeout)
    if frame.startswith(b"!"):
        raise ConnectionError(frame[1:].decode(errors="replace"))
    if conn.lost.done() and not frame:
        raise ConnectionError("closed during the handshake")
    return frame


async def ready(
    conn: Connection, kind: str, subscribe: str | None, since: str | None = None, timeout: float = 60
) -> bytes:
    """Finish ``kind``'s handshake on an upgraded-or-upgrading socket; return the last frame of it."""
    upgraded = await next_frame(conn, timeout)  # b"" once the server answered 101
    if kind == "raw":
        return upgraded
    first = await next_frame(conn, timeout)  # hello, or Engine.IO's open packet
    if kind == "socketio":
        conn.send_text("40")
        reply = await next_frame(conn, timeout)
        if not reply.startswith(b"40"):
            raise ConnectionError(reply[:200].decode(errors="replace"))
        return reply
    if not subscribe:
        return first
    frame: dict = {"type": "subscribe", "topic": subscribe}
    if since:
        frame["since"] = since
    conn.send_text(json.dumps(frame))
    while True:
        reply = await next_frame(conn, timeout)
        if b'"subscribed"' in reply:
            return reply
        if b'"error"' in reply:
            raise ConnectionError(reply[:200].decode(errors="replace"))


async def open_connections(
    host: str,
    port: int | list[int],
    kind: str,
    count: int,
    subscribe: str | None,
    tally: Tally,
    sample_every: int = 10,
    tokens: list[str] | None = None,
    sessions: list[str] | None = None,
    concurrency: int = 200,
    timeout: float = 60,
    factory: type[Connection] = Connection,
    path: str | None = None,
) -> list[Connection]:
    """Open ``count`` connections, at most ``concurrency`` handshakes in flight; return those that got ready.

    ``port`` may be a list: connection ``i`` goes to ``port[i % len(port)]``. ``tokens``, for
    the hub: connection ``i`` offers ``hub.v1`` and ``hub.token.<tokens[i % len]>``; ``sessions``,
    session keys: connection ``i`` sends ``sessions[i % len]`` as a browser would its cookie. Each
    connection's time to ready goes to ``tally.connect_times``; failures to ``tally.failed``.
    """
    loop = asyncio.get_running_loop()
    ports = port if isinstance(port, list) else [port]
    tally.seen = [set() for _ in range(count)]
    gate = asyncio.Semaphore(concurrency)

    async def open_one(index: int) -> Connection | None:
        async with gate:
            began = time.perf_counter()
            target = ports[index % len(ports)]
            try:
                _transport, conn = await loop.create_connection(
                    lambda: factory(index, tally, index % sample_every == 0), host, target
                )
                offered = ["hub.v1", "hub.token." + tokens[index % len(tokens)].replace(":", ".")] if tokens else None
                session = sessions[index % len(sessions)] if sessions else None
                conn.transport.write(handshake(host, target, path or PATHS[kind], offered, session))
                await ready(conn, kind, subscribe, timeout=timeout)
            except (OSError, ConnectionError, TimeoutError) as error:
                tally.failed += 1
                name = type(error).__name__
                tally.errors[name] = tally.errors.get(name, 0) + 1
                return None
            tally.connect_times.append(time.perf_counter() - began)
            return conn

    opened = await asyncio.gather(*(open_one(i) for i in range(count)))
    return [conn for conn in opened if conn is not None]


def percentile(values: list[float], fraction: float) -> float | None:
    """Return the ``fraction`` percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]
