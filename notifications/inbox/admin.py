"""The inbox in the Django admin."""

from django.contrib import admin

from notifications.inbox.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Notifications by user, level and read state."""

    list_display = ("title", "user", "level", "created_at", "read_at")
    list_filter = ("level", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "user__username")
    raw_id_fields = ("user",)
    # Read state is the user's to change (the inbox page): shown, not edited, so that a
    # notification added here arrives unread, like one from notify().
    fields = ("user", "title", "body", "url", "level", "data", "created_at", "read_at")
    readonly_fields = ("created_at", "read_at")
