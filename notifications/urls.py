"""URLs of the hub's HTTP endpoints, mounted under ``/hub/``."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("token/", views.token, name="token"),
]
