"""The README's screenshots come from ``docs/screenshots.py``: it runs here and makes every one of them."""

from __future__ import annotations

import importlib.util
import re
import sys
from typing import Any

import pytest

from conftest import ROOT
from notifications.dashboards.tests.helpers import grant

pytest.importorskip("playwright.sync_api", reason="playwright is not importable")

PNG = b"\x89PNG\r\n\x1a\n"


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "docs" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_the_script_makes_every_image_the_readme_shows(
    orm_beside_playwright: None, make_user: Any, chromium: Any, live_hub: Any, celery_worker: Any, tmp_path: Any
) -> None:
    """Every docs/img/*.png that the README shows is written, as a PNG of a real page."""
    grant(make_user("alice"))
    make_user("admin", is_staff=True, is_superuser=True)
    written = _script().take(live_hub.http_url, tmp_path, {"alice": "pw-alice", "admin": "pw-admin"}, chromium)

    shown = set(re.findall(r"docs/img/([\w.-]+\.png)", (ROOT / "README.md").read_text()))
    assert shown, "the README shows no screenshot"
    made = {path.name: path for path in written}
    assert shown <= set(made), shown - set(made)
    for name in shown:
        image = made[name].read_bytes()
        assert image.startswith(PNG) and len(image) > 10_000, name
        assert (ROOT / "docs" / "img" / name).exists(), f"docs/img/{name} is not committed"
