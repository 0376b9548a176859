"""The demo project: ASGI entry point, URLs and the demo app (chat, sales dashboard, demo users)."""
