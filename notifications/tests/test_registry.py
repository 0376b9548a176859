"""Topic declarations: matching, parameters and refusals."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from notifications import registry
from notifications.exceptions import InvalidTopic


def test_declared_topic_resolves_with_params() -> None:
    """A name matching a pattern yields the topic and its parameters."""
    topic, params = registry.resolve("chat.lobby-2")
    assert (topic.pattern, params, topic.client_publish) == ("chat.{room}", {"room": "lobby-2"}, True)


@pytest.mark.parametrize("name", ["chat", "chat.", "chat.a.b", "Chat.a", "chat.a b", "chat.é", "x" * 81, None, 3])
def test_malformed_or_undeclared_names_are_refused(name: object) -> None:
    """Anything not matching a declared pattern raises InvalidTopic."""
    with pytest.raises(InvalidTopic):
        registry.resolve(name)


def test_declaring_twice_is_a_configuration_error() -> None:
    """The same pattern cannot be declared twice."""
    with pytest.raises(ImproperlyConfigured, match="chat.{room}"):
        registry.topic("chat.{room}")(lambda user, room: True)
