"""URLs of the dashboards pages, mounted under ``/dashboards/``."""

from django.http import HttpResponse
from django.urls import path

app_name = "dashboards"
urlpatterns = [
    path("", lambda request: HttpResponse("Dashboards: not built yet."), name="index"),
]
