"""``manage.py seed_demo``: demo logins printed once, never in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory, override_settings

pytestmark = pytest.mark.django_db


def test_creates_users_once_and_prints_passwords_once(tmp_path: Path, capsys: Any) -> None:
    """First run prints working passwords; the second only says where they are."""
    with override_settings(HUB_STATE_DIR=tmp_path, DEBUG=True):
        call_command("seed_demo")
        first = capsys.readouterr().out
        call_command("seed_demo")
        second = capsys.readouterr().out
    logins = dict(pair.split(" / ") for pair in first.split(": ", 1)[1].strip().split(", "))
    assert set(logins) == {"alice", "bob", "admin"}
    login = RequestFactory().post("/accounts/login/")  # django-axes throttles logins by request
    assert all(authenticate(login, username=name, password=password) for name, password in logins.items())
    assert "exist" in second and logins["alice"] not in second
    users = get_user_model().objects
    assert users.get(username="admin").is_superuser and users.get(username="bob").groups.filter(name="editors")
    assert users.get(username="alice").has_perm("demo.view_sales")
    assert logins["alice"] in (tmp_path / "demo-users.txt").read_text()


def test_refuses_without_debug() -> None:
    """With DEBUG off it refuses with a clear line and creates nothing."""
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()
