"""The demo's topics: chat rooms that any connected client may read and write, with who is in them."""

from __future__ import annotations

from typing import Any

from notifications import topic

# The rooms the chat page lists; any other name works too.
CHAT_ROOMS = ("lobby", "django", "random")


@topic("chat.{room}", client_publish=True, history=100, presence=True)
def chat_room(user: Any, room: str) -> bool:
    """Anyone who may connect may read and write in any chat room, and see who is in it."""
    return True


def chat_topic(room: str) -> str:
    """Return the topic of the chat room ``room``."""
    return f"chat.{room}"
