"""The servers hold under abuse: oversize frames refused unread, half-open handshakes dropped, sockets capped.

Both servers as they run in real use (``notifications.servers``): Uvicorn as in compose
and the Dockerfile, Daphne as in ``make run``.
"""

from __future__ import annotations

import base64
import os
import selectors
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import daphne_command, port_open, start_process, stop_process, subprocess_env, uvicorn_command, wait_for
from notifications.embedded_redis import free_port
from notifications.servers import HANDSHAKE_TIMEOUT

pytestmark = pytest.mark.django_db(transaction=True)

CAP = 5  # connections per address, for this module's servers


@pytest.fixture(scope="module", params=["uvicorn", "daphne"])
def server(request: Any, django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """Serve the hub with one of the two servers; yield its port and pid."""
    port = free_port()
    command = uvicorn_command(port) if request.param == "uvicorn" else daphne_command(port)
    log = tmp_path_factory.mktemp(request.param) / "server.log"
    env = subprocess_env(HUB_MAX_CONNECTIONS_PER_ADDRESS=str(CAP))
    process = start_process(command, log, lambda: port_open(port), request.param, env=env)
    yield port, process.pid
    stop_process(process)


def handshake(port: int) -> tuple[socket.socket, bytes]:
    """Open a websocket to /ws/ by hand; return the socket and what followed the 101 response."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    conn.sendall(
        f"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += conn.recv(4096)
    assert response.startswith(b"HTTP/1.1 101"), response[:200]
    return conn, response.split(b"\r\n\r\n", 1)[1]


def rss_kb(pid: int) -> int:
    """Return a process's resident memory in KB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_15_mb_frame_is_refused_before_it_is_read(server: tuple[int, int]) -> None:
    """A client announcing and sending a 15 MB frame is cut off; the server's memory hardly moves."""
    port, pid = server
    before = rss_kb(pid)
    conn, _frames = handshake(port)
    size = 15 * 1024 * 1024
    mask = os.urandom(4)
    conn.sendall(struct.pack("!BBQ", 0x81, 0x80 | 127, size) + mask)  # FIN + text, masked, 64-bit length
    chunk = bytes(1024 * 1024)
    sent = 0
    try:
        while sent < size:
            conn.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass  # the server closed the connection part-way: what it should do
    conn.settimeout(10)
    try:
        while conn.recv(65536):
            pass  # a close frame (1009), then the end
    except OSError:
        pass
    conn.close()
    grown = rss_kb(pid) - before
    assert grown < 4096, f"the server grew by {grown} KB"


def test_half_open_handshakes_are_dropped(server: tuple[int, int]) -> None:
    """500 connections that never finish their request are closed by the server within the handshake timeout."""
    port, _pid = server
    selector = selectors.DefaultSelector()
    conns = []
    for _ in range(500):
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn.sendall(b"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")  # never the blank line
        conn.setblocking(False)
        selector.register(conn, selectors.EVENT_READ)
        conns.append(conn)
    deadline = time.monotonic() + HANDSHAKE_TIMEOUT + 10
    open_ = set(conns)
    while open_ and time.monotonic() < deadline:
        for key, _events in selector.select(timeout=1):
            conn = key.fileobj
            try:
                data = conn.recv(4096)  # type: ignore[union-attr]
            except OSError:
                data = b""
            if not data:
                selector.unregister(conn)
                open_.discard(conn)  # type: ignore[arg-type]
    for conn in conns:
        conn.close()
    assert not open_, f"{len(open_)} of 500 half-open handshakes were still open"


def test_more_sockets_than_the_cap_are_closed_with_4030(server: tuple[int, int]) -> None:
    """The (CAP+1)th socket from one address is closed with 4030 after the handshake; the others stay."""
    port, _pid = server
    held = [handshake(port)[0] for _ in range(CAP)]
    extra, data = handshake(port)
    extra.settimeout(10)
    code = _close_code(extra, data)
    assert code == 4030
    for conn in held + [extra]:
        conn.close()
    wait_for(lambda: _accepts(port), timeout=10)


def _accepts(port: int) -> bool:
    conn, _frames = handshake(port)
    conn.close()
    return True


def _close_code(conn: socket.socket, data: bytes) -> int | None:
    """Read server frames (unmasked) from ``data`` and then ``conn`` until a close frame; return its code."""
    while True:
        while len(data) >= 4 or (len(data) >= 2 and data[1] & 0x7F < 126):
            opcode, length, start = data[0] & 0x0F, data[1] & 0x7F, 2
            if length == 126:
                length, start = struct.unpack("!H", data[2:4])[0], 4
            if len(data) < start + length:
                break
            if opcode == 0x8:
                return int(struct.unpack("!H", data[start : start + 2])[0])
            data = data[start + length :]
        try:
            received = conn.recv(4096)
        except OSError:
            return None
        if not received:
            return None
        data += received
