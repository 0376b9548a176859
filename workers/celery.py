"""The Celery app: configured from Django settings (``CELERY_*``), tasks in ``tasks/``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.local")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in tasks/ (listed here) and in each installed app's tasks.py (discovered).
app.conf.imports = ("tasks.publishing", "tasks.examples", "tasks.sales")
app.autodiscover_tasks()
