"""Test settings for server processes whose dead members must leave fast: HUB_PRESENCE_TIMEOUT of 2 s."""

from settings.test import *  # noqa: F403

HUB_PRESENCE_TIMEOUT = 2
