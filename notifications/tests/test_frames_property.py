"""Every frame gets a documented answer: thousands of generated frames against a live consumer.

Generated: well-shaped frames with arbitrary values, garbage text, deep nesting, NaN,
Infinity and overflowing numbers, odd Unicode (lone surrogates included) and binary.
After each, a ping must still be answered, every frame before its pong must be of a
documented type and error code, and nothing may be logged at ERROR.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifications import protocol
from notifications.asgi import websocket_app

pytestmark = pytest.mark.django_db(transaction=True)

FRAME_TYPES = {"hello", "subscribed", "unsubscribed", "pong", "published", "event", "reset", "error", "ok"}
ERROR_CODES = {value for name, value in vars(protocol).items() if name.isupper() and isinstance(value, str)}
CLOSE_CODES = {protocol.CLOSE_TOO_LARGE, protocol.CLOSE_FLOOD}

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)  # fmt: skip
_types = st.sampled_from(["subscribe", "unsubscribe", "publish", "ping", "inbox.read", "inbox.read_all", "app.verb"])
_topics = st.sampled_from(["chat.lobby", "chat.x", "dashboard.hub", "job.1", "nope", "a" * 90]) | st.text(max_size=20)
_shaped = st.fixed_dictionaries(
    {"type": _types | st.text(max_size=12)},
    optional={"topic": _topics | _values, "since": st.sampled_from(["0-0", "1-1", "x"]) | _values,
              "event": st.sampled_from(["message", "bad name!"]) | _values, "data": _values,
              "ids": _values, "ref": _values},
)  # fmt: skip
_numbers = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" + "0" * 5000, "1e-999", "0.1"])
_deep = st.integers(min_value=1, max_value=5000).map(lambda n: "[" * n + "]" * n)
_deep_objects = st.integers(min_value=20, max_value=3000).map(lambda n: '{"type":"ping","a":' + "[" * n + "]" * n + "}")
_texts = (
    _shaped.map(json.dumps)
    | st.text(max_size=200)
    | _deep
    | _deep_objects
    | _numbers.map(lambda number: '{"type":"ping","ref":%s}' % number)
    | _numbers.map(lambda number: '{"type":"publish","topic":"chat.lobby","event":"m","data":%s}' % number)
    | st.sampled_from(
        ['{"type":"ping","ref":"\\ud800"}', '{"type":"\\udfff"}', '"\\ud83d"', "\ufeff{}", "{}", "[]", "null"]
    )
)
_frames = _texts.map(lambda text: ("text", text)) | st.binary(max_size=64).map(lambda data: ("bytes", data))


def _not_json(name: str) -> None:
    raise AssertionError("the hub sent %s, which is not JSON" % name)


class _Socket:
    """A consumer served in-process on its own event loop, reopened if the hub closes it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.application = websocket_app(tune_gc=False)
        self.communicator: WebsocketCommunicator | None = None
        self.refs = itertools.count()
        self.closes: list[int] = []

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def open(self) -> None:
        self.communicator = WebsocketCommunicator(self.application, "/ws/", headers=[(b"origin", b"http://127.0.0.1")])
        connected, code = await self.communicator.connect(timeout=10)
        assert connected, code
        assert (await self.communicator.receive_json_from(timeout=10))["type"] == "hello"

    async def exchange(self, kind: str, payload: Any) -> list[dict]:
        """Send one generated frame, then a ping; return every frame before its pong."""
        if self.communicator is None:
            await self.open()
        communicator = self.communicator
        assert communicator is not None
        # send_input, not send_to: it refuses an empty text, which a real socket may carry.
        await communicator.send_input({"type": "websocket.receive", kind: payload})
        ref = "sentinel-%d" % next(self.refs)
        await communicator.send_to(text_data=json.dumps({"type": "ping", "ref": ref}))
        answers = []
        while True:
            output = await communicator.receive_output(timeout=10)
            if output["type"] == "websocket.close":
                self.closes.append(output.get("code"))
                await communicator.disconnect()
                self.communicator = None
                return answers
            frame = json.loads(output["text"], parse_constant=_not_json)  # NaN or Infinity: invalid JSON
            if frame == {"type": "pong", "ref": ref}:
                return answers
            answers.append(frame)

    def close(self) -> None:
        if self.communicator is not None:
            self.run(self.communicator.disconnect())
        self.loop.close()


@override_settings(HUB_RATE_LIMIT=1e9, HUB_RATE_BURST=10**9, HUB_MAX_SUBSCRIPTIONS=10**6)
def test_every_generated_frame_gets_a_documented_answer(caplog: pytest.LogCaptureFixture) -> None:
    """Thousands of generated frames: documented replies only, the socket still answers, no ERROR logged."""
    socket = _Socket()
    caplog.set_level(logging.ERROR)

    @settings(max_examples=2500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(frame=_frames)
    def check(frame: tuple[str, Any]) -> None:
        for answer in socket.run(socket.exchange(*frame)):
            assert answer["type"] in FRAME_TYPES, answer
            if answer["type"] == "error":
                assert answer["code"] in ERROR_CODES, answer

    try:
        check()
    finally:
        socket.close()
    assert set(socket.closes) <= CLOSE_CODES, socket.closes
    assert [record for record in caplog.records if record.levelno >= logging.ERROR] == []
