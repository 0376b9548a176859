"""Helpers of the dashboards tests: read the state pushes a hub client receives."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from notifications.client import HubClient

SALES = "dashboard.sales"


async def next_state(hub: HubClient, topic: str = SALES, timeout: float = 10.0) -> dict[str, Any]:
    """Return the data of the next "state" event of ``topic``, skipping other frames."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await hub.next_event(timeout=max(0.0, deadline - loop.time()))
        if frame["topic"] == topic and frame["event"] == "state":
            return frame["data"]


async def states_until(
    hub: HubClient, done: Callable[[dict[str, Any]], bool], quiet: float, topic: str = SALES
) -> list[dict[str, Any]]:
    """Collect state pushes until one satisfies ``done``, then any more that arrive within ``quiet`` seconds."""
    pushes = [await next_state(hub, topic, timeout=30)]
    while not done(pushes[-1]):
        pushes.append(await next_state(hub, topic, timeout=30))
    while True:
        try:
            pushes.append(await next_state(hub, topic, timeout=quiet))
        except TimeoutError:
            return pushes


def grant(user: Any, codename: str = "view_sales") -> Any:
    """Give ``user`` the demo permission ``codename``; return the user."""
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(content_type__app_label="demo", codename=codename))
    return user
