"""URLs of the hub's HTTP endpoints, mounted under ``/hub/``."""

from django.urls import path

from notifications import health, prometheus, sse, views

app_name = "notifications"

urlpatterns = [
    path("token/", views.token, name="token"),
    path("history/", views.history, name="history"),
    path("sse/", sse.stream, name="sse"),
    path("sse/<str:connection>/", sse.post_frame, name="sse_frame"),
    path("metrics", prometheus.view, name="metrics"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
