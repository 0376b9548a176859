"""The notification hub: publish from Django code, relay to browsers over one socket.

The public face (docs/install.md lists it)::

    from notifications import publish            # publish.to_user / to_topic / broadcast
    from notifications import topic, on_connect, client_frame
    from notifications import HubUnavailable, InvalidTopic, PublishError, FrameRefused

Everything else is private to the hub.
"""

from notifications.exceptions import FrameRefused, HubUnavailable, InvalidToken, InvalidTopic, PublishError
from notifications.registry import client_frame, on_connect, topic

__all__ = [
    "FrameRefused",
    "HubUnavailable",
    "InvalidToken",
    "InvalidTopic",
    "PublishError",
    "client_frame",
    "on_connect",
    "publish",
    "topic",
]
