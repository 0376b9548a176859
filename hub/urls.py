"""URL configuration: the admin, logins, the hub's HTTP endpoints and the demo pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hub import views
from notifications.jobs import urls as job_urls

# "My jobs" with the demo's start forms, then the jobs app's own pages, in one "jobs" namespace.
_jobs = [
    path("", views.jobs_home, name="list"),
    path("export/", views.start_export, name="start_export"),
    path("compute/", views.start_compute, name="start_compute"),
    *(pattern for pattern in job_urls.urlpatterns if pattern.name != "list"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon),
    path("chat/<slug:room>/", views.chat_room, name="chat"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("hub/", include("notifications.urls")),
    path("inbox/", include("notifications.inbox.urls")),
    path("announcements/", include("notifications.announcements.urls")),
    path("dashboards/", include("notifications.dashboards.urls")),
    path("jobs/", include((_jobs, "jobs"))),
    path("admin/", admin.site.urls),
]
