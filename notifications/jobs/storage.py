"""Where jobs keep the files they produce: private, never served as static or media files."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage, Storage

from notifications.conf import hub_settings, state_dir


def job_files() -> Storage:
    """Return the storage of job files (``HUB_JOB_FILES_DIR``); downloads go through a view that checks the owner."""
    return FileSystemStorage(location=hub_settings.HUB_JOB_FILES_DIR or state_dir() / "job-files", base_url=None)
