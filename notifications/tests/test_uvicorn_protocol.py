"""The leaner Uvicorn protocol (``notifications.uvicorn_protocol``) behaves as Uvicorn's own, as production runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import websockets

from conftest import port_open, start_process, stop_process, subprocess_env, uvicorn_command
from notifications.embedded_redis import free_port
from notifications.queues import ChannelQueue
from notifications.tests.test_server_bounds import handshake, rss_kb
from notifications.uvicorn_protocol import LeanWebSocketProtocol

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def uvicorn_server(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """Serve the hub with ``python -m notifications.servers uvicorn``; yield its port and pid."""
    port = free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    process = start_process(uvicorn_command(port), log, lambda: port_open(port), "Uvicorn")
    yield port, process.pid
    stop_process(process)
    assert "Traceback" not in log.read_text(), log.read_text()[-5000:]


@pytest.fixture
def uvicorn_port(uvicorn_server: tuple[int, int]) -> int:
    return uvicorn_server[0]


async def test_frames_sent_back_to_back_are_all_answered_in_order(uvicorn_port: int) -> None:
    """40 pings in one burst get 40 pongs: reading resumes after each message the hub takes."""
    async with websockets.connect(f"ws://127.0.0.1:{uvicorn_port}/ws/?batch=1") as socket:
        assert json.loads(await socket.recv())["type"] == "hello"
        for n in range(40):
            await socket.send(json.dumps({"type": "ping", "ref": n}))
        refs = []
        while len(refs) < 40:
            refs += [json.loads(line)["ref"] for line in str(await socket.recv()).split("\n")]
    assert refs == list(range(40))


async def test_events_reach_a_subscriber_and_a_closed_socket_is_let_go(uvicorn_port: int) -> None:
    """A subscriber gets a published event; after closing, its address may connect again at once."""
    from notifications import publish

    url = f"ws://127.0.0.1:{uvicorn_port}/ws/"
    async with websockets.connect(url) as socket:
        await socket.recv()  # hello
        await socket.send(json.dumps({"type": "subscribe", "topic": "chat.lean"}))
        assert json.loads(await socket.recv())["type"] == "subscribed"
        await publish.ato_topic("chat.lean", "said", "hi")
        assert json.loads(await socket.recv())["data"] == "hi"
    for _ in range(3):
        async with websockets.connect(url) as again:
            assert json.loads(await again.recv())["type"] == "hello"


def test_a_flood_of_small_frames_leaves_the_servers_memory_alone(uvicorn_server: tuple[int, int]) -> None:
    """20 MB of 2-byte frames sent at once: the client is closed for flooding and the server grows < 30 MB."""
    port, pid = uvicorn_server
    before = rss_kb(pid)
    conn, _frames = handshake(port)
    megabyte = b"\x81\x82\x00\x00\x00\x00{}" * (1024 * 1024 // 8)  # masked (with a zero mask) text frames "{}"
    try:
        for _ in range(20):
            conn.sendall(megabyte)
    except OSError:
        pass  # closed for flooding (4029) part-way: expected
    conn.settimeout(10)
    try:
        while conn.recv(65536):
            pass  # error frames, the close, then the end
    except OSError:
        pass
    conn.close()
    grown = rss_kb(pid) - before
    assert grown < 30 * 1024, f"the server grew by {grown} KB"


def test_reading_resumes_once_the_app_has_taken_every_message_it_was_handed() -> None:
    """Three client messages from one read: the socket is read again after the third is taken, not the first."""
    protocol = LeanWebSocketProtocol.__new__(LeanWebSocketProtocol)  # no server: only the flow control
    resumed: list[bool] = []
    protocol.queue, protocol.read_paused = ChannelQueue(), True
    protocol.transport = SimpleNamespace(resume_reading=lambda: resumed.append(True))
    for n in range(3):
        protocol.queue.put_nowait({"type": "websocket.receive", "text": str(n)})
    taken: list[dict] = []
    resume = protocol._receive_into(taken.append)
    assert [event["text"] for event in taken] == ["0", "1", "2"]
    resume()
    resume()
    assert resumed == []
    resume()
    assert resumed == [True]


async def test_compression_is_declined_unless_switched_on(uvicorn_port: int, tmp_path: Any) -> None:
    """A client offering permessage-deflate (browsers do) gets plain frames; HUB_WEBSOCKET_COMPRESSION=true grants it."""
    async with websockets.connect(f"ws://127.0.0.1:{uvicorn_port}/ws/") as socket:
        assert socket.response.headers.get("Sec-WebSocket-Extensions") is None
    port = free_port()
    env = subprocess_env(HUB_WEBSOCKET_COMPRESSION="true")
    process = start_process(uvicorn_command(port), tmp_path / "server.log", lambda: port_open(port), "Uvicorn", env=env)
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/") as socket:
            assert socket.response.headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
            assert json.loads(await socket.recv())["type"] == "hello"
    finally:
        stop_process(process)
