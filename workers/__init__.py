"""The Celery app and worker-side plumbing."""

from workers.celery import app

__all__ = ["app"]
