"""The pytest plugin, run in a child pytest: where its admin DSN comes from, and a skip (with
the reason) when that server is unreachable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/postgres"


def _pytest(tmp_path: Path, env_dsn: str | None) -> str:
    (tmp_path / "pytest.ini").write_text(f"[pytest]\noban_bridge_admin_dsn = {UNREACHABLE}\n")
    (tmp_path / "test_x.py").write_text(
        "def test_uses_the_fixture(oban_bridge_client):\n    raise AssertionError('ran')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "BRIDGE_TEST_DSN"}
    if env_dsn is not None:
        env["BRIDGE_TEST_DSN"] = env_dsn
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    return out.stdout


def test_unreachable_server_skips_with_the_reason(tmp_path: Path) -> None:
    out = _pytest(tmp_path, None)
    assert "1 skipped" in out and f"PostgreSQL not reachable at {UNREACHABLE}" in out


def test_the_environment_wins_over_the_ini_option(tmp_path: Path) -> None:
    other = "postgresql://postgres@127.0.0.1:2/postgres"
    out = _pytest(tmp_path, other)
    assert "1 skipped" in out and f"not reachable at {other}" in out
