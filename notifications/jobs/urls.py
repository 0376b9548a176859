"""URLs of the jobs pages, mounted under ``/jobs/``."""

from django.urls import path

from notifications.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("state/", views.job_list_state_json, name="list_state"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/state/", views.job_state_json, name="state"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/download/", views.download, name="download"),
]
