"""Exceptions raised by the hub's public API."""


class PublishError(ValueError):
    """An event cannot be published: bad name, data that is not JSON, or data too large."""


class EventTooLarge(PublishError):
    """An event's data is over ``HUB_MAX_EVENT_BYTES`` once encoded."""


class InvalidTopic(ValueError):
    """A topic name is malformed or matches no declared topic."""


class InvalidToken(ValueError):
    """A hub token is forged, malformed, expired or belongs to no active user."""


class HubUnavailable(ConnectionError):
    """Redis could not be reached to publish; nothing was sent. Safe to retry."""


class FrameRefused(Exception):
    """An app's client-frame handler refuses a frame; the client gets an error frame with ``code``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
