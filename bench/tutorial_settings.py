"""Settings of the tutorial-style comparison server: the hub's, with the core Redis layer."""

from settings.local import *  # noqa: F403
from settings.local import REDIS_URL

CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
