"""The publishing API: validation at the call, and one Redis connection per process."""

from __future__ import annotations

import json
import math
import threading
from typing import Any

import pytest
import redis
from django.conf import settings

from notifications import publish
from notifications.embedded_redis import free_port
from notifications.exceptions import HubUnavailable, InvalidTopic, PublishError
from notifications.layers import HubChannelLayer


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


def test_sync_publish_runs_in_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync publish is one script call on a sync client, from the caller's own thread."""
    threads = []
    evalsha = redis.Redis.evalsha

    def recording_evalsha(self: redis.Redis, *args: Any) -> Any:
        threads.append(threading.get_ident())
        return evalsha(self, *args)

    monkeypatch.setattr(redis.Redis, "evalsha", recording_evalsha)
    publish.to_topic("chat.thread", "tick", {"n": 1})
    assert threads == [threading.get_ident()]
    server = redis.Redis.from_url(settings.REDIS_URL)
    [(_event_id, fields)] = server.xrange(f"{settings.HUB_REDIS_PREFIX}:history:hub.topic.chat.thread")
    assert json.loads(fields[b"m"])["data"] == {"n": 1}


def test_unreachable_redis_raises_hub_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """With Redis gone, a sync publish raises HubUnavailable naming the group, instead of hanging."""
    unreachable = HubChannelLayer(hosts=[f"redis://127.0.0.1:{free_port()}/0"], prefix="gone")
    monkeypatch.setattr(publish, "get_channel_layer", lambda: unreachable)
    with pytest.raises(HubUnavailable, match="hub.topic.chat.gone"):
        publish.to_topic("chat.gone", "tick")
    with pytest.raises(HubUnavailable, match="hub.user.7"):
        publish.close_session(7, "session-key")
