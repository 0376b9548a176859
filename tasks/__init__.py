"""The project's own Celery tasks, written against the hub: the two example jobs and the demo feeds.

Tasks take ids, not objects, and call the publishing API (or ``notifications.jobs``).
"""
