"""Long Celery jobs with live progress: queued, percent, ETA, result, failure and cancel.

    from notifications.jobs import services
    from notifications.jobs.runner import JobTask, job_task

    @job_task(kind="export")
    def export(self: JobTask, rows: int) -> dict:
        for n in range(rows):
            self.progress(n + 1, rows, "Writing rows")
        return {"summary": "done"}

    job = services.start_job(owner=request.user, task=export, title="Export", params={"rows": 10})

See docs/jobs.md.
"""
