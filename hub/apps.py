"""The demo project's own app: the chat topic, the sales dashboard and its orders, the demo users."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo built on the hub; a host project has its own instead."""

    name = "hub"
    label = "demo"
    verbose_name = "Demo"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Load the project's Celery app and declare the sales dashboard (the chat topic is in ``hub/topics.py``).

        As Celery's Django guide does in the project package, the Celery app loads with
        Django, so that ``@shared_task`` binds to it in every process (worker, view, shell).
        """
        import workers  # noqa: F401
        from hub import sales  # noqa: F401 (declares the dashboard)
