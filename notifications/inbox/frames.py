"""Inbox frames clients may send over the hub socket: ``inbox.read`` and ``inbox.read_all``."""

from __future__ import annotations

from typing import Any

from notifications import protocol
from notifications.exceptions import FrameRefused
from notifications.inbox import services
from notifications.registry import client_frame


@client_frame("inbox.read")
def read(user: Any, frame: dict) -> dict:
    """Mark notifications read: ``{"type": "inbox.read", "ids": [..]}``; answer the unread count."""
    ids = frame.get("ids")
    if not user.is_authenticated:
        raise FrameRefused(protocol.FORBIDDEN, "only signed-in users have an inbox")
    if not isinstance(ids, list) or not ids or not all(_is_pk(pk) for pk in ids):
        raise FrameRefused(protocol.BAD_FRAME, '"ids" must be a non-empty list of notification ids')
    return {"unread": services.mark_read(user, ids[:500])}


@client_frame("inbox.read_all")
def read_all(user: Any, frame: dict) -> dict:
    """Mark every notification read: ``{"type": "inbox.read_all"}``; answer the unread count."""
    if not user.is_authenticated:
        raise FrameRefused(protocol.FORBIDDEN, "only signed-in users have an inbox")
    return {"unread": services.mark_all_read(user)}


def _is_pk(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
