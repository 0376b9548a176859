"""A brand-new Django project installs the hub as a package, follows docs/install.md, and works.

The project is made by ``django-admin startproject`` in its own virtualenv, with this
repository installed by pip (with the ``[embedded]`` extra); every block of
docs/install.md marked ``<!-- apply: ... -->`` is applied exactly as written.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from notifications.client import HubClient, HubError
from notifications.embedded_redis import free_port

ROOT = Path(__file__).resolve().parents[2]
_APPLY = re.compile(r"<!-- apply: (append|write) (\S+) -->\n```\w*\n(.*?)```", re.S)


@dataclass(frozen=True)
class NewProject:
    """A startproject'ed site with the hub installed in its own virtualenv."""

    directory: Path
    python: Path

    def env(self) -> dict[str, str]:
        """Return a clean environment: none of this suite's settings, Redis or database."""
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
        return {name: os.environ[name] for name in keep if name in os.environ} | {"PYTHONUNBUFFERED": "1"}

    def manage(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``manage.py`` with ``args``; return the finished process (output captured)."""
        return subprocess.run(
            [str(self.python), "manage.py", *args], cwd=self.directory, env=env or self.env(),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip


@pytest.fixture(scope="module")
def new_project(tmp_path_factory: pytest.TempPathFactory) -> NewProject:
    """Install this repository into a new virtualenv and apply docs/install.md to a new project."""
    base = tmp_path_factory.mktemp("new-project")
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True, timeout=120)
    python = base / "venv" / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{ROOT}[embedded]"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-3000:]
    directory = base / "site"
    directory.mkdir()
    subprocess.run([str(base / "venv" / "bin" / "django-admin"), "startproject", "mysite", str(directory)],
                   check=True, timeout=60)  # fmt: skip
    blocks = _APPLY.findall((ROOT / "docs" / "install.md").read_text())
    assert blocks, "docs/install.md has no applicable blocks"
    for how, name, text in blocks:
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if how == "append":
            target.write_text(target.read_text() + "\n" + text)
        else:
            target.write_text(text)
    return NewProject(directory, python)


def test_the_package_holds_the_app_and_not_the_demo(new_project: NewProject) -> None:
    """pip installed ``notifications`` with its features, templates and static files, and none of the demo."""
    probe = (
        "import importlib.util as u, notifications, pathlib;"
        "root = pathlib.Path(notifications.__file__).parent;"
        "print([m for m in ('hub', 'tasks', 'workers', 'settings') if u.find_spec(m)]);"
        "print((root / 'static/notifications/hub.js').exists(), (root / 'jobs/migrations/0001_initial.py').exists());"
        "print(sorted(p.name for p in root.iterdir() if p.name == 'tests'))"
    )
    result = subprocess.run([str(new_project.python), "-c", probe], cwd="/", capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines() == ["[]", "True True", "[]"], result.stderr


def test_check_is_clean_and_a_missing_layer_is_a_check_error(new_project: NewProject) -> None:
    """``manage.py check`` passes; without CHANNEL_LAYERS it fails with notifications.E001, not a traceback."""
    clean = new_project.manage("check")
    assert clean.returncode == 0 and "no issues" in clean.stdout, clean.stderr
    (new_project.directory / "mysite" / "settings_broken.py").write_text(
        "from mysite.settings import *  # noqa: F403\n\ndel CHANNEL_LAYERS\n"
    )
    broken = new_project.manage("check", "--settings", "mysite.settings_broken")
    assert broken.returncode == 1
    assert "notifications.E001" in broken.stderr and "CHANNEL_LAYERS" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_hub_script_renders_the_client(new_project: NewProject) -> None:
    """``{% load hub %}{% hub_script %}`` puts hub.js on the page, connecting itself."""
    result = new_project.manage(
        "shell", "-c",
        "from django.template import Context, Template;"
        "print(Template(open('mysite/templates/hub_demo.html').read()).render(Context()))",
    )  # fmt: skip
    assert '<script src="/static/notifications/hub.js" data-hub-connect></script>' in result.stdout, result.stderr


@pytest.fixture(scope="module")
def served(new_project: NewProject) -> Iterator[int]:
    """Serve the new project with ``manage.py runhub`` (embedded Redis, no Celery app); yield its port."""
    password = {"DJANGO_SUPERUSER_PASSWORD": "a-long-password-1", "DJANGO_SUPERUSER_EMAIL": "a@example.org"}
    assert new_project.manage("migrate").returncode == 0
    created = new_project.manage(
        "createsuperuser", "--noinput", "--username", "alice", env=new_project.env() | password
    )
    assert created.returncode == 0, created.stderr
    port = free_port()
    process = subprocess.Popen(
        [str(new_project.python), "manage.py", "runhub", "--port", str(port)], cwd=new_project.directory,
        env=new_project.env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_forward, args=(process, lines), daemon=True).start()
    seen = []
    try:
        while not any(line.startswith("Serving the hub at") for line in seen):
            line = lines.get(timeout=60)
            assert line is not None, "runhub exited:\n" + "\n".join(seen)
            seen.append(line)
        assert any("No Celery app found" in line for line in seen), seen
        yield port
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0, "\n".join(seen)


async def test_a_views_publish_reaches_the_users_socket(new_project: NewProject, served: int) -> None:
    """A token client of alice gets the event that the project's own view publishes to her."""
    token = new_project.manage("hub_token", "alice").stdout.strip()
    async with HubClient(f"ws://127.0.0.1:{served}/ws/", token=token, reconnect=False) as hub:
        assert hub.hello is not None and hub.hello["user"] == 1
        await asyncio.to_thread(_get, f"http://127.0.0.1:{served}/notify/alice/")
        frame = await hub.next_event(timeout=10)
        assert (frame["topic"], frame["event"], frame["data"]) == ("user.1", "greeting", {"text": "hello from a view"})


@pytest.mark.parametrize("signed_in", [True, False])
async def test_a_bare_install_lets_no_client_publish_or_subscribe(
    new_project: NewProject, served: int, signed_in: bool
) -> None:
    """No topic is declared: publishing and subscribing anywhere is refused with invalid_topic."""
    token = new_project.manage("hub_token", "alice").stdout.strip() if signed_in else None
    async with HubClient(f"ws://127.0.0.1:{served}/ws/", token=token, reconnect=False) as hub:
        for topic in ("chat.lobby", "dashboard.sales", "anything.at-all"):
            with pytest.raises(HubError) as published:
                await hub.publish(topic, "message", {"text": "hi"})
            with pytest.raises(HubError) as subscribed:
                await hub.subscribe(topic)
            assert (published.value.code, subscribed.value.code) == ("invalid_topic", "invalid_topic")


def _forward(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()
