"""The hub's Django app: groups, publishing, the websocket consumer, topics and their authorization."""
