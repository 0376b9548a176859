"""Operating the hub: /hub/metrics for Prometheus across processes, /hub/healthz and /hub/readyz."""

from __future__ import annotations

import re
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client, override_settings

from conftest import daphne_command, port_open, start_process, stop_process, subprocess_env, wait_for
from notifications import publish, tokens
from notifications.client import HubClient
from notifications.embedded_redis import EmbeddedRedis, free_port

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-me-0123456789"


def scrape() -> dict[str, float]:
    """Return /hub/metrics (through Django's test client, with the bearer token) as {sample: value}."""
    with override_settings(HUB_METRICS_TOKEN=TOKEN):
        response = Client().get("/hub/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    samples = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def settled_scrape(quiet: float = 1.5, timeout: float = 15.0) -> dict[str, float]:
    """Scrape until hub_delivered_total has not moved for ``quiet`` seconds (earlier tests' figures flushed)."""
    deadline = time.monotonic() + timeout
    last, since = scrape(), time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, "the hub's figures did not settle"
        time.sleep(0.1)  # polling the once-a-second flush, bounded by the deadline
        now = scrape()
        if now["hub_delivered_total"] != last["hub_delivered_total"]:
            since = time.monotonic()
        last = now
    return last


def test_metrics_are_for_staff_or_a_token_only(make_user: Any) -> None:
    """A visitor gets 401, a user 403, staff and the bearer token the text format."""
    assert Client().get("/hub/metrics").status_code == 401
    user = Client()
    user.force_login(make_user("someone"))
    assert user.get("/hub/metrics").status_code == 403
    staff = Client()
    staff.force_login(make_user("boss", is_staff=True))
    body = staff.get("/hub/metrics").content.decode()
    for name in ("hub_connections", "hub_subscriptions", "hub_published_total", "hub_delivered_total",
                 'hub_dropped_total{reason="queue_full"}', "hub_slow_client_closes_total", "hub_replayed_total",
                 'hub_delivery_latency_seconds_bucket{le="+Inf"}'):  # fmt: skip
        assert name in body, name
    with override_settings(HUB_METRICS_TOKEN=TOKEN):
        assert Client().get("/hub/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


async def test_two_processes_deliver_everything_and_metrics_add_up(
    live_hub: Any, second_hub: Any, make_user: Any
) -> None:
    """A client on each process gets every event of a topic and its user stream; /hub/metrics counts them all."""
    alice = await sync_to_async(make_user)("alice")
    token = await sync_to_async(tokens.mint)(alice)
    topic = "chat.ops-%s" % secrets.token_hex(4)  # no other connection of the session can be on it
    async with (
        HubClient(live_hub.ws_url, token=token, reconnect=False) as one,
        HubClient(second_hub.ws_url, token=token, reconnect=False) as two,
    ):
        for hub in (one, two):
            await hub.subscribe(topic)
        for n in range(20):
            await publish.ato_topic(topic, "message", n)
            await publish.ato_user(alice, "mine", n)
        for hub in (one, two):
            frames = [await hub.next_event() for _ in range(40)]
            assert [f["data"] for f in frames if f["topic"] == topic] == list(range(20))
            assert [f["data"] for f in frames if f["topic"] == f"user.{alice.pk}"] == list(range(20))

        # The metrics, on the topic alone: a user id that an earlier test's leftover socket
        # still holds (SQLite reuses ids) could add user-stream deliveries of its own.
        before = await sync_to_async(settled_scrape)()
        for n in range(20):
            await publish.ato_topic(topic, "message", 100 + n)
        for hub in (one, two):
            assert [(await hub.next_event())["data"] for _ in range(20)] == list(range(100, 120))

        def counted() -> dict[str, float] | None:
            now = scrape()
            return now if now["hub_delivered_total"] - before["hub_delivered_total"] >= 40 else None

        after = await sync_to_async(wait_for)(counted)
        assert after["hub_delivered_total"] - before["hub_delivered_total"] == 40
        assert after["hub_processes"] >= 2 and after["hub_published_total"] - before["hub_published_total"] == 20


async def test_a_client_moved_to_the_other_process_resumes_with_nothing_lost(
    live_hub: Any, second_hub: Any, make_user: Any
) -> None:
    """Off the first process, 5 events published, onto the second: all 5 arrive, in order, once."""
    bob = await sync_to_async(make_user)("bob")
    token = await sync_to_async(tokens.mint)(bob)
    hub = HubClient(live_hub.ws_url, token=token, reconnect=False)
    async with hub:
        await hub.subscribe("chat.moved")
    for n in range(5):
        await publish.ato_topic("chat.moved", "message", n)
        await publish.ato_user(bob, "mine", n)
    hub.base_url = second_hub.ws_url
    async with hub:
        await hub.subscribe("chat.moved", since=hub.last_ids["chat.moved"])
        frames = [await hub.next_event() for _ in range(10)]
    assert sorted((f["topic"], f["data"]) for f in frames) == sorted(
        [("chat.moved", n) for n in range(5)] + [(f"user.{bob.pk}", n) for n in range(5)]
    )


async def test_a_retained_replay_does_not_move_the_latency_histogram(live_hub: Any) -> None:
    """A new subscriber to a retained topic gets its latest state as a replay, not as a latency sample."""
    from django.contrib.auth import get_user_model

    await publish.ato_topic("dashboard.hub", "state", {"old": True})  # retained: the latest one is kept
    before = await sync_to_async(scrape)()
    staff = await sync_to_async(get_user_model().objects.create_user)("ops-staff", is_staff=True)
    staff_token = await sync_to_async(tokens.mint)(staff)
    async with HubClient(live_hub.ws_url, token=staff_token, reconnect=False) as hub:
        await hub.subscribe("dashboard.hub")
        assert (await hub.next_event())["data"] == {"old": True}

        def replay_counted() -> dict[str, float] | None:
            now = scrape()
            return now if now["hub_replayed_total"] > before["hub_replayed_total"] else None

        after = await sync_to_async(wait_for)(replay_counted)
    count = "hub_delivery_latency_seconds_count"
    assert after[count] == before[count], "a replay was counted as latency"


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_readyz_follows_redis_and_healthz_the_process(django_db_setup: Any, tmp_path: Path) -> None:
    """/hub/readyz answers 503 while Redis is down and 200 once it is back; /hub/healthz stays 200."""
    redis = EmbeddedRedis(tmp_path / "redis")
    port = free_port()
    env = subprocess_env(REDIS_URL=redis.start())
    server = start_process(daphne_command(port), tmp_path / "daphne.log", lambda: port_open(port), "Daphne", env=env)
    base = f"http://127.0.0.1:{port}/hub"
    try:
        assert (_status(f"{base}/healthz"), _status(f"{base}/readyz")) == (200, 200)
        redis.stop()
        assert (_status(f"{base}/healthz"), _status(f"{base}/readyz")) == (200, 503)
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            assert re.search(rb'"status": ?"ok"', response.read())
        redis.start()
        wait_for(lambda: _status(f"{base}/readyz") == 200, timeout=15)
    finally:
        stop_process(server)
        redis.stop()
