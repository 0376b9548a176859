"""Compatibility run: upstream channels-redis tests and the Channels tutorial on HubChannelLayer."""
