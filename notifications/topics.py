"""The hub's built-in topics and who may use them (see ``notifications.registry``)."""

from __future__ import annotations

from typing import Any

from notifications.registry import topic


@topic("chat.{room}", client_publish=True, history=100)
def chat_room(user: Any, room: str) -> bool:
    """Anyone who may connect may read and write in any chat room."""
    return True


@topic("dashboard.{name}", history=1, retain=True)
def dashboard(user: Any, name: str) -> bool:
    """Dashboards need the ``notifications.view_dashboard`` permission."""
    return user.is_authenticated and user.has_perm("notifications.view_dashboard")
