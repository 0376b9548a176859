"""Celery tasks. Tasks take ids, not objects, and call the publishing API."""
