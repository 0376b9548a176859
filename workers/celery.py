"""The Celery app: configured from Django settings (``CELERY_*``), tasks in ``tasks/``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.local")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.imports = ("tasks.publishing",)
