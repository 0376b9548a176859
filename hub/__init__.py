"""The Django project: ASGI entry point, URL configuration and websocket routing."""
