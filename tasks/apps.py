"""App configuration of tasks: Celery tasks and the records of long jobs."""

from django.apps import AppConfig


class TasksConfig(AppConfig):
    """Celery tasks and job records."""

    name = "tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the job signal receivers and register the jobs settings check."""
        from celery.signals import task_failure
        from django.core import checks
        from django.db.models.signals import post_delete

        from tasks import checks as job_checks
        from tasks import signals
        from tasks.models import Job

        task_failure.connect(signals.fail_job_of_failed_task, dispatch_uid="tasks.fail_job_of_failed_task")
        post_delete.connect(signals.delete_job_file, sender=Job, dispatch_uid="tasks.delete_job_file")
        checks.register(job_checks.check_job_settings)
