"""App configuration of notifications.jobs."""

from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The jobs feature: Celery tasks bound to a ``Job`` record, followed live on ``job.{id}``."""

    name = "notifications.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Connect the job signal receivers, schedule the sweeps, register the checks."""
        from celery.signals import task_failure
        from django.core import checks
        from django.db.models.signals import post_delete

        from notifications import periodic
        from notifications.conf import hub_settings
        from notifications.jobs import checks as job_checks
        from notifications.jobs import signals
        from notifications.jobs.models import Job

        task_failure.connect(signals.fail_job_of_failed_task, dispatch_uid="jobs.fail_job_of_failed_task")
        post_delete.connect(signals.delete_job_file, sender=Job, dispatch_uid="jobs.delete_job_file")
        # In beat itself: a job must be failed even when every worker died.
        periodic.every("jobs-sweep-lost", "notifications.jobs.tasks.sweep_lost_jobs",
                       lambda: hub_settings.HUB_JOB_SWEEP_INTERVAL, in_beat=True)  # fmt: skip
        periodic.every("jobs-delete-old", "notifications.jobs.tasks.delete_old_jobs", lambda: 3600.0)
        checks.register(job_checks.check_job_settings)
