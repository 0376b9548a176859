"""A user's stored notifications."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def is_safe_link(url: str) -> bool:
    """Tell whether ``url`` may be a notification's link: a path on this site or an http(s) URL."""
    return url.startswith(("http://", "https://")) or (url.startswith("/") and not url.startswith("//"))


def validate_link(url: str) -> None:
    """Raise ValidationError unless ``url`` is empty or a safe link (never javascript:, never //host)."""
    if url and not is_safe_link(url):
        raise ValidationError(
            "A link must be a path starting with / or an http(s) URL, not %(url)r.", params={"url": url}
        )


class Notification(models.Model):
    """One notification in a user's inbox; unread while ``read_at`` is empty."""

    class Level(models.TextChoices):
        INFO = "info"
        SUCCESS = "success"
        WARNING = "warning"
        ERROR = "error"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hub_notifications")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, validators=[validate_link])
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="inbox_user_unread")]

    @property
    def link(self) -> str:
        """The URL to link the notification to, or "" when there is none that is safe to follow."""
        return self.url if is_safe_link(self.url) else ""

    def __str__(self) -> str:
        return f"{self.title} ({self.user})"
