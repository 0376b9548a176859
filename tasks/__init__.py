"""Celery tasks. Tasks take ids, not objects, and call the publishing API."""

# The hub's Celery app must be the current app before any @shared_task binds to it,
# whichever process imports the tasks first (a worker, a view, the shell).
import workers  # noqa: F401
