"""Misconfiguration is a system-check error naming the setting, never a crash."""

from __future__ import annotations

import secrets

import pytest
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


@pytest.mark.parametrize("delay", [-0.1, 2, "0.1", True])
def test_a_write_delay_out_of_range_is_e002(delay: object) -> None:
    """HUB_WRITE_DELAY takes 0 to 1 second; anything else is named, with the value, not a crash at connect."""
    with override_settings(HUB_WRITE_DELAY=delay):
        (error,) = [error for error in system_checks.check_core() if error.id == "notifications.E002"]
    assert error.msg.startswith("HUB_WRITE_DELAY") and repr(delay) in error.msg
    with override_settings(HUB_WRITE_DELAY=0.1):
        assert system_checks.check_core() == []


def test_apps_missing_from_installed_apps_are_reported_by_name() -> None:
    """Without "channels", the core reports notifications.E003 and each feature its own id."""
    installed = [app.name for app in apps.get_app_configs() if app.name != "channels"]
    with override_settings(INSTALLED_APPS=installed):
        ids = _ids([error for error in run_checks() if error.is_serious()])
    assert {"notifications.E003", "inbox.E002", "announcements.E002", "dashboards.E003", "jobs.E005"} <= set(ids)


def _deploy_ids() -> list[str]:
    return _ids([error for error in run_checks(include_deployment_checks=True) if error.is_serious()])


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "empty"),
        ("x" * 49 + "y", "50 characters, 2 of them different"),
        ("a1b2c3d4e5" * 3, "30 characters"),
        ("django-insecure-" + "k3y" * 20, "startproject"),
    ],
)
def test_a_weak_secret_key_is_e010_under_check_deploy(key: str, problem: str) -> None:
    """An empty, short, repetitive or startproject SECRET_KEY fails `check --deploy` with notifications.E010."""
    with override_settings(SECRET_KEY=key):
        assert "notifications.E010" in _deploy_ids()
        (error,) = system_checks.check_secret_key()
    assert problem in error.msg and (not key or key not in error.msg), "the message never shows the key"
    assert "DJANGO_SECRET_KEY" in error.hint and "SECRET_KEY" in error.hint


def test_a_strong_secret_key_passes_and_e010_is_a_deploy_check_only() -> None:
    """A long random key passes; a weak one is not reported by the checks that runserver and tests run."""
    with override_settings(SECRET_KEY=secrets.token_urlsafe(50)):
        assert system_checks.check_secret_key() == []
    with override_settings(SECRET_KEY="short"):
        assert "notifications.E010" not in _ids(run_checks())


@override_settings(HUB_ALLOWED_ORIGINS=["https://example.org", "*", "https://*.example.org", "example.org"])
def test_a_wildcard_or_malformed_origin_is_e011_naming_the_setting() -> None:
    """Each '*' or non-origin entry of HUB_ALLOWED_ORIGINS is its own notifications.E011; good ones pass."""
    errors = [error for error in system_checks.check_core() if error.id == "notifications.E011"]
    assert len(errors) == 3 and all("HUB_ALLOWED_ORIGINS" in error.msg for error in errors)
    assert "'*'" in errors[0].msg and "'example.org'" in errors[2].msg and "not an origin" in errors[2].msg


@override_settings(HUB_ALLOWED_ORIGINS="https://example.org")
def test_origins_given_as_one_string_are_e011() -> None:
    """A string is not a list of origins."""
    assert "notifications.E011" in _ids(system_checks.check_core())


@override_settings(ALLOWED_HOSTS=["*"])
def test_a_wildcard_host_without_explicit_origins_is_e011() -> None:
    """ALLOWED_HOSTS = ['*'] cannot be the websocket's origin list: E011 names both settings."""
    (error,) = [error for error in system_checks.check_core() if error.id == "notifications.E011"]
    assert "ALLOWED_HOSTS" in error.msg and "HUB_ALLOWED_ORIGINS" in error.hint


@override_settings(ALLOWED_HOSTS=["*"], HUB_ALLOWED_ORIGINS=["https://example.org"])
def test_a_wildcard_host_with_explicit_origins_passes() -> None:
    """With HUB_ALLOWED_ORIGINS set, the origins no longer come from ALLOWED_HOSTS."""
    assert "notifications.E011" not in _ids(system_checks.check_core())
