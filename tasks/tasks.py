"""Celery's autodiscovery imports ``<app>.tasks``: this module imports every module of job tasks."""

from tasks import examples, maintenance  # noqa: F401
