"""The notifications app: wires topics, signals, periodic tasks and system checks at start-up."""

from typing import Any

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """The hub's core app."""

    name = "notifications"
    verbose_name = "Notification hub"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Load every app's ``topics`` module, connect the logout, rights and beat signals, register the checks."""
        from celery.signals import beat_init
        from django.contrib.auth.signals import user_logged_out
        from django.core import checks
        from django.utils.module_loading import autodiscover_modules

        from notifications import periodic, signals, system_checks

        autodiscover_modules("topics")
        user_logged_out.connect(signals.close_hub_connections, dispatch_uid="notifications.logout")
        beat_init.connect(periodic.add_to_beat, dispatch_uid="notifications.periodic", weak=False)
        _connect_rights_signals(signals)
        checks.register(system_checks.check_core)


def _connect_rights_signals(signals: Any) -> None:
    """Re-check open connections when a user's rights change (``notifications.signals``)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

    user_model = get_user_model()
    pre_save.connect(signals.remember_rights, sender=user_model, dispatch_uid="notifications.rights.pre_save")
    post_save.connect(signals.rights_saved, sender=user_model, dispatch_uid="notifications.rights.post_save")
    post_delete.connect(signals.user_deleted, sender=user_model, dispatch_uid="notifications.rights.delete")
    for name in ("groups", "user_permissions"):
        field = getattr(user_model, name, None)
        if field is not None:
            uid = "notifications.rights.%s" % name
            m2m_changed.connect(signals.memberships_changed, sender=field.through, dispatch_uid=uid)
    m2m_changed.connect(
        signals.group_permissions_changed, sender=Group.permissions.through, dispatch_uid="notifications.rights.group"
    )
