"""Misconfiguration is a system-check error naming the setting, never a crash."""

from __future__ import annotations

from django.apps import apps
from django.core.checks import run_checks
from django.test import override_settings

from notifications import system_checks


def _ids(errors: list) -> list[str]:
    return [error.id for error in errors]


def test_the_default_settings_pass() -> None:
    """This project's settings raise no error."""
    assert [error for error in run_checks() if error.is_serious()] == []


@override_settings()
def test_a_missing_channel_layer_is_e001_with_a_hint() -> None:
    """No CHANNEL_LAYERS at all: notifications.E001, whose hint shows the setting to add."""
    from django.conf import settings

    del settings.CHANNEL_LAYERS
    errors = system_checks.check_core()
    assert _ids(errors) == ["notifications.E001"]
    assert "HubChannelLayer" in errors[0].hint and "CHANNEL_LAYERS" in errors[0].hint


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}})
def test_a_foreign_channel_layer_is_e001() -> None:
    """Another backend is named in the message."""
    errors = system_checks.check_core()
    assert _ids(errors) == ["notifications.E001"] and "RedisChannelLayer" in errors[0].msg


@override_settings(HUB_HEARTBEAT=0, HUB_RATE_LIMIT="fast")
def test_numbers_out_of_range_are_e002_naming_each_setting() -> None:
    """Each bad HUB_* number is reported on its own, with its default in the hint."""
    errors = [error for error in system_checks.check_core() if error.id == "notifications.E002"]
    assert sorted(error.msg.split()[0] for error in errors) == ["HUB_HEARTBEAT", "HUB_RATE_LIMIT"]
    assert any("(25)" in error.hint for error in errors)


def test_apps_missing_from_installed_apps_are_reported_by_name() -> None:
    """Without "channels", the core reports notifications.E003 and each feature its own id."""
    installed = [app.name for app in apps.get_app_configs() if app.name != "channels"]
    with override_settings(INSTALLED_APPS=installed):
        ids = _ids([error for error in run_checks() if error.is_serious()])
    assert {"notifications.E003", "inbox.E002", "announcements.E002", "dashboards.E003", "jobs.E005"} <= set(ids)
