"""channels-redis' own pub/sub tests (vendored in ``upstream/``) on HubChannelLayer."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from notifications.embedded_redis import EmbeddedRedis
from notifications.tests.compat.differences import INTENTIONAL_DIFFERENCES

UPSTREAM = Path(__file__).resolve().parent / "upstream"
ROOT = UPSTREAM.parents[3]


def _test_names(module: Path) -> set[str]:
    """Return the names of the test functions defined at the top of ``module``."""
    tree = ast.parse(module.read_text())
    functions = (node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef))
    return {node.name for node in functions if node.name.startswith("test_")}


def _outcomes(junit_xml: Path) -> dict[str, str]:
    """Return each test's outcome from a JUnit report: passed, failed, xfailed or skipped."""
    outcomes = {}
    for case in ElementTree.parse(junit_xml).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif (skipped := case.find("skipped")) is not None:
            outcome = "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
        else:
            outcome = "passed"
        outcomes[case.get("name", "")] = outcome
    return outcomes


def test_upstream_pubsub_tests_pass_except_the_listed_differences(tmp_path: Path) -> None:
    """Every upstream pub/sub test passes on HubChannelLayer; the listed differences fail as listed."""
    redis = EmbeddedRedis(tmp_path / "redis")
    report = tmp_path / "upstream.xml"
    command = [
        sys.executable, "-m", "pytest", "-c", str(UPSTREAM / "pytest.ini"), "--rootdir", str(UPSTREAM),
        "-rA", f"--junitxml={report}", str(UPSTREAM / "test_pubsub.py"),
    ]  # fmt: skip
    try:
        env = {**os.environ, "REDIS_URL": redis.start()}
        run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=100)
    finally:
        redis.stop()
        redis.remove_files()
    expected = {name: "passed" for name in _test_names(UPSTREAM / "test_pubsub.py")}
    expected.update({key.split("::")[1]: "xfailed" for key in INTENTIONAL_DIFFERENCES})
    assert report.exists(), run.stdout[-5000:] + run.stderr[-2000:]
    assert (_outcomes(report), run.returncode) == (expected, 0), run.stdout[-5000:]
