"""URLs of notifications.announcements, mounted under ``/announcements/``."""

from django.urls import path

from notifications.announcements import views

app_name = "announcements"
urlpatterns = [
    path("active/", views.active, name="active"),
    path("<int:pk>/dismiss/", views.dismiss, name="dismiss"),
]
