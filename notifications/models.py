"""Database models of the hub."""

from django.db import models


class HubPermissions(models.Model):
    """Holds the hub's permissions; it has no table of its own."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_dashboard", "Can subscribe to live dashboards")]
