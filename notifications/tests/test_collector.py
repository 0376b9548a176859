"""Server processes tune the garbage collector when they load the ASGI application."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from conftest import ROOT, subprocess_env

_PROBE = "import gc, hub.asgi; print(gc.get_threshold()[0], gc.get_freeze_count() > 0)"


@pytest.mark.parametrize(("setting", "expected"), [("12345", "12345 True"), ("0", "700 False")])
def test_loading_the_asgi_application_tunes_the_collector(setting: str, expected: str) -> None:
    """HUB_GC_THRESHOLD sets the young generation's threshold and freezes start-up objects; 0 leaves both."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=subprocess_env(HUB_GC_THRESHOLD=setting),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert result.stdout.split("\n")[-2] == expected


@override_settings(HUB_GC_THRESHOLD=-1)
def test_a_negative_threshold_fails_the_system_checks() -> None:
    """A negative HUB_GC_THRESHOLD is reported at start-up with what to fix."""
    assert [error.id for error in run_checks() if "HUB_GC_THRESHOLD" in error.msg] == ["notifications.E002"]
