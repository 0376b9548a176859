"""A client that cannot keep up is closed (4008) without slowing others, then catches up."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from pathlib import Path

from django.test import override_settings

from conftest import port_open, start_process, stop_process, subprocess_env, uvicorn_command
from notifications import protocol, publish
from notifications.client import HubClient
from notifications.embedded_redis import free_port

EVENTS = 3000
PAYLOAD = "x" * 4000


class StalledReader:
    """A raw websocket client that subscribes, then reads nothing until told to."""

    def __init__(self, port: int):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        self.buffer = self.buffer.split(b"\r\n\r\n", 1)[1]

    def read_until(self, marker: bytes) -> None:
        """Read (keeping what was read) until ``marker`` has arrived."""
        while marker not in self.buffer:
            self.buffer += self.sock.recv(4096)

    def send(self, text: str) -> None:
        data, mask = text.encode(), os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))
        self.sock.sendall(bytes([0x81, 0x80 | len(data)]) + mask + masked)

    def frames(self) -> list[tuple[int, bytes]]:
        """Read until the server closes; return (opcode, payload) of every frame."""
        while chunk := self.sock.recv(65536):
            self.buffer += chunk
        frames, data = [], self.buffer
        while data:
            opcode, length, start = data[0] & 0x0F, data[1] & 0x7F, 2
            if length == 126:
                length, start = struct.unpack(">H", data[2:4])[0], 4
            elif length == 127:
                length, start = struct.unpack(">Q", data[2:10])[0], 10
            frames.append((opcode, data[start : start + length]))
            data = data[start + length :]
        return frames


@override_settings(HUB_TOPIC_HISTORY={"chat.{room}": EVENTS + 100})
async def test_slow_client_is_closed_and_catches_up(tmp_path: Path) -> None:
    """The stalled reader gets 4008, the fast one every event promptly; the slow one resumes by id."""
    port = free_port()
    env = subprocess_env(HUB_QUEUE_SIZE="100", HUB_TOPIC_HISTORY=f"chat.{{room}}={EVENTS + 100}")
    server = start_process(uvicorn_command(port), tmp_path / "uvicorn.log", lambda: port_open(port), "Uvicorn", env=env)
    url = f"ws://127.0.0.1:{port}/ws/"
    try:
        fast = HubClient(url, reconnect=False)
        await fast.connect()
        await fast.subscribe("chat.slow")
        slow = StalledReader(port)
        slow.send('{"type": "subscribe", "topic": "chat.slow", "ref": "s"}')
        await asyncio.to_thread(slow.read_until, b'"subscribed"')

        async def publish_paced() -> None:
            for n in range(EVENTS):
                await publish.ato_topic("chat.slow", "n", {"n": n, "pad": PAYLOAD})
                if n % 10 == 0:
                    await asyncio.sleep(0.005)  # pacing: about 2,000 events/s

        publisher = asyncio.create_task(publish_paced())
        latencies = []
        for n in range(EVENTS):
            event = await fast.next_event(timeout=10)
            assert event["data"]["n"] == n, fast.close_code
            latencies.append(time.time() * 1000 - event["ts"])
        await publisher
        await fast.close()

        frames = await asyncio.to_thread(slow.frames)
        texts = [json.loads(payload) for opcode, payload in frames if opcode == 0x1]
        events = [frame for frame in texts if frame["type"] == "event"]
        close = [payload for opcode, payload in frames if opcode == 0x8]
        assert close and struct.unpack(">H", close[0][:2])[0] == protocol.CLOSE_TOO_SLOW
        received = [frame["data"]["n"] for frame in events]
        assert 0 < len(received) < EVENTS and received == list(range(len(received)))

        async with HubClient(url, reconnect=False) as again:
            await again.subscribe("chat.slow", since=events[-1]["id"])
            rest = [(await again.next_event())["data"]["n"] for _ in range(EVENTS - len(received))]
        assert received + rest == list(range(EVENTS))
    finally:
        stop_process(server)
    # Not a benchmark (see bench/): only that the fast client was not held behind the slow one.
    assert sorted(latencies)[len(latencies) // 2] < 2000
