"""URLs of the inbox, mounted under ``/inbox/``."""

from django.urls import path

from notifications.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("unread/", views.unread, name="unread"),
    path("state/", views.state, name="state"),
    path("<int:pk>/read/", views.read, name="read"),
    path("read-all/", views.read_all, name="read_all"),
    path("test/", views.send_test, name="send_test"),
]
