"""Where HubChannelLayer differs from channels-redis' pub/sub layer on purpose.

The one list of upstream tests (``upstream/test_pubsub.py``) that are expected to fail on
HubChannelLayer, each with the reason; every other upstream test must pass. Docs cite it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Difference:
    """An upstream test that fails on HubChannelLayer by design: why, and with which exception."""

    reason: str
    raises: type[BaseException]


_JSON = "HubChannelLayer is JSON-only (its Lua script splices the event id into the JSON)"

INTENTIONAL_DIFFERENCES: dict[str, Difference] = {
    "test_pubsub.py::test_serialize": Difference(
        f"{_JSON}; upstream expects msgpack bytes from serialize().", AssertionError
    ),
    "test_pubsub.py::test_deserialize": Difference(f"{_JSON}; upstream feeds deserialize() msgpack bytes.", ValueError),
    "test_pubsub.py::test_receive_on_non_owned_general_channel": Difference(
        "It sends a str; Channels messages are dicts, so send() raises TypeError as channels-redis' "
        "core layer and InMemoryChannelLayer refuse them too. The receive on a channel not made by "
        "new_channel() is covered with a dict in test_channels_spec.py.",
        TypeError,
    ),
}
