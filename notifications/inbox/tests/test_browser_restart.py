"""The hub restarted under an open inbox page (``make run`` stopped and started): the bell and list come right.

A real ``manage.py runhub`` (embedded Redis, Daphne, a worker), its demo user alice signed
in in Chromium; a notification created while the hub is down (stored, its event never
published) shows up after the restart without a reload.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from notifications.embedded_redis import free_port
from notifications.tests.test_runhub import ROOT, _Hub, _ready

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not importable").expect

_NOTIFY = "from django.contrib.auth.models import User; from notifications.inbox.services import notify; " \
          "notify(User.objects.get(username='alice'), %r)"  # fmt: skip


def _notify(state_dir: Path, title: str, redis_url: str | None) -> None:
    """Create a notification for alice in the hub's database, from a shell as a script would."""
    env = {name: value for name, value in os.environ.items() if name not in ("REDIS_URL", "DATABASE_URL")}
    env.update(HUB_STATE_DIR=str(state_dir), DJANGO_SETTINGS_MODULE="settings.local", LOG_LEVEL="CRITICAL")
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env["REDIS_URL"] = "redis://127.0.0.1:%d/0" % free_port()  # the hub is down: nothing answers there
    subprocess.run([sys.executable, "manage.py", "shell", "-c", _NOTIFY % title], cwd=ROOT, env=env,
                   check=True, capture_output=True, timeout=60)  # fmt: skip


def test_an_open_inbox_is_right_again_after_the_hub_restarts(new_context: Any, tmp_path: Path) -> None:
    """Bell 2, the hub stops, a third notification is stored meanwhile, the hub starts: bell 3, list 3, no reload."""
    state_dir, port = tmp_path / "state", free_port()
    hub = _Hub(state_dir, port)
    try:
        _ready(hub)
        password = next(line.split(" / ")[1] for line in (state_dir / "demo-users.txt").read_text().splitlines()
                        if line.startswith("alice / "))  # fmt: skip
        redis_url = (state_dir / "redis.url").read_text().strip()
        for title in ("first", "second"):
            _notify(state_dir, title, redis_url)
        page = new_context().new_page()
        page.goto(f"http://127.0.0.1:{port}/accounts/login/?next=/inbox/")
        page.fill("#id_username", "alice")
        page.fill("#id_password", password)
        page.click("button[type=submit]:has-text('Log in')")
        expect(page.locator("#inbox-unread")).to_have_text("2")
        expect(page.locator("#inbox-list > li")).to_have_count(2)
        expect(page.locator("#hub-state")).to_have_attribute("data-state", "live")  # its socket is open

        hub.process.send_signal(signal.SIGINT)
        assert hub.process.wait(timeout=30) == 0, hub.output[-3000:]
        _notify(state_dir, "while the hub was down", None)
        hub = _Hub(state_dir, port)
        _ready(hub)
        expect(page.locator("#inbox-unread")).to_have_text("3", timeout=40_000)
        expect(page.locator("#inbox-list > li")).to_have_count(3)
        expect(page.locator("#inbox-list")).to_contain_text("while the hub was down")
    finally:
        hub.stop()
