"""The hub's built-in topics and who may use them (see ``notifications.registry``)."""

from __future__ import annotations

from typing import Any

from notifications.registry import topic


@topic("chat.{room}", client_publish=True, history=100)
def chat_room(user: Any, room: str) -> bool:
    """Anyone who may connect may read and write in any chat room."""
    return True
