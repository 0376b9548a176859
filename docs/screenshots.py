"""Screenshots of the demo's pages for the README (``docs/img/``), taken in Chromium by Playwright.

Against a running hub (``make run``), as the demo users (their passwords come from
``.hub/demo-users.txt``, which ``make run`` writes, unless given with ``--login``)::

    .venv/bin/python docs/screenshots.py --url http://127.0.0.1:8000 [--login alice:PASSWORD ...] [--out docs/img]

It posts one chat message, sends alice one test notification and starts one prime report
(Celery runs it), so that those pages show something. Needs Debian's chromium at /usr/bin/chromium (``apt-get install chromium``).
The suite runs it too (``hub/tests/test_screenshots.py``) and checks that it makes every
image the README shows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-quic"]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Shot:
    """One image: who looks at which page, how, and what to do before the picture."""

    file: str
    user: str | None
    path: str
    prepare: Callable[[Page], None] = lambda page: None
    dark: bool = False
    phone: bool = False


def _chat(page: Page) -> None:
    page.wait_for_selector("#messages[data-history='loaded']", state="attached")
    page.fill("#chat-input", "Hello from the screenshot script")
    page.press("#chat-input", "Enter")
    page.wait_for_selector("#messages li.message.mine")


def _inbox(page: Page) -> None:
    page.click("#inbox-send-test button")
    page.wait_for_selector("#inbox-list li.unread")


def _jobs(page: Page) -> None:
    page.click("#compute-form button[type=submit]")  # a prime report, with the form's defaults
    page.wait_for_selector(".job[data-status='running'], .job[data-status='succeeded']")
    page.goto(page.url.rsplit("/jobs/", 1)[0] + "/jobs/")
    page.wait_for_selector("#jobs .job", state="attached")


def _dashboard(page: Page) -> None:
    page.wait_for_selector("#dashboard[data-state='subscribed']")


def _live(page: Page) -> None:
    page.wait_for_selector("#hub-state[data-state='live']", state="attached")


def _home(page: Page) -> None:
    _live(page)
    page.wait_for_selector("#home-chat-online:not([data-value=''], [data-value='0'])")


SHOTS = [
    Shot("home.png", "alice", "/", _home),
    Shot("chat.png", "alice", "/chat/lobby/", _chat),
    Shot("inbox.png", "alice", "/inbox/", _inbox),
    Shot("jobs.png", "alice", "/jobs/", _jobs),
    Shot("dashboard.png", "alice", "/dashboards/sales/", _dashboard),
    Shot("home-dark.png", "admin", "/", _home, dark=True),
    Shot("phone.png", None, "/", _home, phone=True),
]


def take(base_url: str, out: Path, passwords: dict[str, str], browser: Browser) -> list[Path]:
    """Take every shot of ``SHOTS`` into ``out``; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for shot in SHOTS:
        context = browser.new_context(
            viewport=PHONE if shot.phone else DESKTOP,
            color_scheme="dark" if shot.dark else "light",
            is_mobile=shot.phone,
            device_scale_factor=1,
            reduced_motion="reduce",  # no highlight caught halfway
        )
        try:
            page = context.new_page()
            if shot.user is not None:
                _log_in(page, base_url, shot.user, passwords[shot.user])
            page.goto(base_url + shot.path)
            shot.prepare(page)
            path = out / shot.file
            page.screenshot(path=str(path), full_page=not shot.phone)
            written.append(path)
        finally:
            context.close()
    return written


def _log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_selector(f"#whoami:text-is('{username}')")


def _passwords(logins: list[str]) -> dict[str, str]:
    if logins:
        return dict(login.split(":", 1) for login in logins)
    saved = Path(".hub/demo-users.txt")
    if not saved.exists():
        sys.exit("No --login given and no .hub/demo-users.txt: start the hub with `make run` first.")
    return dict(line.split(" / ", 1) for line in saved.read_text().split("\n") if " / " in line)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, take the screenshots, print where they are."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running hub (default: %(default)s)")
    parser.add_argument("--login", action="append", default=[], metavar="USER:PASSWORD", help="a demo login")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "img", help="where (default: docs/img)")
    options = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    passwords = _passwords(options.login)
    missing = {shot.user for shot in SHOTS if shot.user} - set(passwords)
    if missing:
        sys.exit("No password for %s: give --login USER:PASSWORD." % ", ".join(sorted(missing)))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for path in take(options.url.rstrip("/"), options.out, passwords, browser):
                print(path)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
