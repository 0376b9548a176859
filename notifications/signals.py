"""Signal receivers connected in ``NotificationsConfig.ready``."""

from __future__ import annotations

import logging
from typing import Any

from notifications import publish

logger = logging.getLogger(__name__)


def close_hub_connections(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """On logout, close the hub connections that this browser session opened."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is None or not session_key:
        return
    try:
        publish.close_session(user, session_key)
    except OSError:
        # Logging out must not fail because Redis is down; the sockets close on their next error.
        logger.warning("Could not tell the hub that user %s logged out", user.pk, exc_info=True)
