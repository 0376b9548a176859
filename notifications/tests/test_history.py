"""GET /hub/history/: a topic's recent events over HTTP, as the socket sends them, with its authorization."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notifications import publish


@pytest.fixture
def room(transactional_db: Any) -> str:
    """Return a chat topic (declared by the demo) with five messages in its history."""
    import secrets

    topic = f"chat.history-{secrets.token_hex(4)}"
    for number in range(5):
        publish.to_topic(topic, "message", {"text": f"m{number}"})
    return topic


def test_latest_events_oldest_first_in_the_socket_shape(room: str) -> None:
    """The last N events, oldest first, each an event frame with id and ts; until cuts at a position."""
    answer = Client().get("/hub/history/", {"topic": room, "limit": 3})
    assert answer.status_code == 200 and answer["Cache-Control"].startswith("max-age=0")
    events = answer.json()["events"]
    assert [event["data"]["text"] for event in events] == ["m2", "m3", "m4"]
    assert {key for key in events[0]} == {"type", "topic", "event", "data", "id", "ts"}
    assert events[0]["type"] == "event" and events[0]["topic"] == room
    earlier = Client().get("/hub/history/", {"topic": room, "until": events[0]["id"]}).json()["events"]
    assert [event["data"]["text"] for event in earlier] == ["m0", "m1", "m2"]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"topic": "nope.nothing"}, 400, "invalid_topic"),
        ({"topic": "chat.x", "until": "yesterday"}, 400, "invalid_topic"),
        ({"topic": "chat.x", "limit": "many"}, 400, "bad_request"),
        ({}, 400, "invalid_topic"),
        ({"topic": "dashboard.sales"}, 403, "forbidden"),
    ],
)
def test_bad_requests_get_a_named_error(transactional_db: Any, query: dict, status: int, code: str) -> None:
    """Undeclared topics, malformed positions and limits, and topics the visitor may not read are refused by name."""
    answer = Client().get("/hub/history/", query)
    assert (answer.status_code, answer.json()["error"]) == (status, code)
    assert answer.json()["message"]


def test_limit_is_clamped(room: str) -> None:
    """limit outside 1-100 is brought into it, not refused."""
    assert len(Client().get("/hub/history/", {"topic": room, "limit": 0}).json()["events"]) == 1
    assert len(Client().get("/hub/history/", {"topic": room, "limit": 10_000}).json()["events"]) == 5


def test_visitors_need_a_login_when_anonymous_hub_use_is_off(room: str, settings: Any) -> None:
    """With HUB_ALLOW_ANONYMOUS off, a visitor gets 401 not_authenticated."""
    settings.HUB_ALLOW_ANONYMOUS = False
    answer = Client().get("/hub/history/", {"topic": room})
    assert (answer.status_code, answer.json()["error"]) == (401, "not_authenticated")


def test_a_topic_is_readable_by_those_its_authorization_lets_in(transactional_db: Any, django_user_model: Any) -> None:
    """dashboard.sales: 403 for a user without demo.view_sales, 200 for one with it."""
    from notifications.dashboards.tests.helpers import grant

    browser = Client()
    browser.force_login(django_user_model.objects.create_user("nobody"))
    assert browser.get("/hub/history/", {"topic": "dashboard.sales"}).status_code == 403
    browser.force_login(grant(django_user_model.objects.create_user("viewer")))
    assert browser.get("/hub/history/", {"topic": "dashboard.sales"}).status_code == 200
