"""URLs of the dashboards pages, mounted under ``/dashboards/``."""

from django.urls import path

from notifications.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:name>/", views.detail, name="detail"),
    path("<slug:name>/state/", views.state_json, name="state"),
]
