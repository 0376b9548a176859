"""Where jobs keep the files they produce: private, never served as static or media files."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage


def job_files() -> Storage:
    """Return the storage of job files (``HUB_JOB_FILES_DIR``); downloads go through a view that checks the owner."""
    return FileSystemStorage(location=settings.HUB_JOB_FILES_DIR, base_url=None)
