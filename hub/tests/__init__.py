"""Tests of the Django project: ASGI wiring, deployment files."""
