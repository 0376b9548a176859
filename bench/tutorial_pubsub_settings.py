"""The tutorial consumer on channels-redis' pub/sub layer (the issue's second comparison row)."""

from settings.local import *  # noqa: F403
from settings.local import REDIS_URL

CHANNEL_LAYERS = {
    "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
}
