"""The publishing API: validation at the call, and one Redis connection per process."""

from __future__ import annotations

import math
from typing import Any

import pytest
import redis
from django.conf import settings

from notifications import publish
from notifications.exceptions import InvalidTopic, PublishError


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: publish.to_topic("chat.a", "ev", {"when": object()}), "not JSON-serialisable"),
        (lambda: publish.to_topic("chat.a", "ev", {1, 2}), "not JSON-serialisable"),
        (lambda: publish.to_topic("chat.a", "ev", math.nan), "not JSON-serialisable"),
        (lambda: publish.to_topic("chat.a", "ev", "x" * 40_000), "HUB_MAX_EVENT_BYTES"),
        (lambda: publish.to_topic("chat.a", "has space", 1), "event must be"),
        (lambda: publish.to_topic("chat.a", "", 1), "event must be"),
        (lambda: publish.to_user("alice", "ev", 1), "user must be"),
        (lambda: publish.broadcast("ev", 1, audience="martians"), "audience must be"),
    ],
)
def test_bad_calls_raise_before_sending(call: Any, message: str) -> None:
    """Bad data, names and audiences raise PublishError naming the problem."""
    with pytest.raises(PublishError, match=message):
        call()


@pytest.mark.parametrize("topic", ["undeclared.topic", "chat", "chat.bad room", 42])
def test_undeclared_or_malformed_topic_raises(topic: Any) -> None:
    """A topic that is malformed or not declared raises InvalidTopic."""
    with pytest.raises(InvalidTopic):
        publish.to_topic(topic, "ev")


def test_publishing_from_sync_code_reuses_one_connection() -> None:
    """1000 publishes from one sync process leave Redis' client count unchanged."""
    server = redis.Redis.from_url(settings.REDIS_URL)
    publish.to_topic("chat.count", "warm.up")
    before = len(server.client_list())
    for n in range(1000):
        publish.to_topic("chat.count", "tick", {"n": n})
    assert len(server.client_list()) == before
    key = f"{settings.HUB_REDIS_PREFIX}:history:hub.topic.chat.count"
    assert server.xlen(key) == settings.HUB_TOPIC_HISTORY["chat.{room}"] == 250
