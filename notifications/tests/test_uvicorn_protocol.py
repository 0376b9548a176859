"""The leaner Uvicorn protocol (``notifications.uvicorn_protocol``) behaves as Uvicorn's own, as production runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from conftest import port_open, start_process, stop_process, uvicorn_command
from notifications.embedded_redis import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def uvicorn_port(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Serve the hub with ``python -m notifications.servers uvicorn``; yield its port."""
    port = free_port()
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    process = start_process(uvicorn_command(port), log, lambda: port_open(port), "Uvicorn")
    yield port
    stop_process(process)
    assert "Traceback" not in log.read_text(), log.read_text()[-5000:]


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
