"""Fixtures and helpers of the jobs tests: users, logged-in HTTP clients, and reading job events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from notifications import tokens
from notifications.client import HubClient

FINAL = ("succeeded", "failed", "cancelled")


@pytest.fixture
def users(make_user: Any) -> dict[str, Any]:
    """Alice (owns the jobs), Bob (another user) and Sam (staff), committed for the subprocesses."""
    return {"alice": make_user("alice"), "bob": make_user("bob"), "staff": make_user("sam", is_staff=True)}


def browser_for(user: Any) -> Client:
    """Return a Django test client logged in as ``user`` (call it through sync_to_async in async tests)."""
    client = Client()
    client.force_login(user)
    return client


def hub_for(live_hub: Any, user: Any = None) -> HubClient:
    """Return a hub client authenticated as ``user`` (a visitor if None), not reconnecting."""
    return HubClient(live_hub.ws_url, token=tokens.mint(user) if user else None, reconnect=False)


def job_id_of(response: Any) -> int:
    """Return the job id of a start view's redirect to the job's page."""
    assert response.status_code == 302, response.content[:500]
    return int(response.url.rstrip("/").rsplit("/", 1)[1])


async def next_job_event(
    hub: HubClient, job_id: int, timeout: float = 30.0, stream: str | None = None
) -> dict[str, Any]:
    """Return the next event frame about job ``job_id`` (on ``stream`` only, if given), skipping others."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await hub.next_event(timeout=max(0.0, deadline - loop.time()))
        if stream is not None and frame["topic"] != stream:
            continue
        if isinstance(frame["data"], dict) and frame["data"].get("id") == job_id:
            return frame


async def job_events_until(
    hub: HubClient, job_id: int, statuses: tuple[str, ...] = FINAL, timeout: float = 30.0, stream: str | None = None
) -> list[dict]:
    """Return job ``job_id``'s event frames (on ``stream`` only, if given) up to the first with a status in ``statuses``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    frames = []
    while True:
        frame = await next_job_event(hub, job_id, timeout=max(0.0, deadline - loop.time()), stream=stream)
        frames.append(frame)
        if frame["data"]["status"] in statuses:
            return frames


async def post(client: Client, url: str, data: Any = None, **extra: Any) -> Any:
    """POST from async code through a Django test client."""
    return await sync_to_async(client.post)(url, data or {}, **extra)


async def get(client: Client, url: str, **extra: Any) -> Any:
    """GET from async code through a Django test client."""
    return await sync_to_async(client.get)(url, **extra)
