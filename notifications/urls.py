"""URLs of the hub's HTTP endpoints, mounted under ``/hub/``."""

from django.urls import path

from notifications import sse, views

app_name = "notifications"

urlpatterns = [
    path("token/", views.token, name="token"),
    path("sse/", sse.stream, name="sse"),
    path("sse/<str:connection>/", sse.post_frame, name="sse_frame"),
]
