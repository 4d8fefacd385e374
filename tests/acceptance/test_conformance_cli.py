"""``oban-bridge conformance`` exit codes: a CI job that tested nothing is never green."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pg


@pytest.fixture(scope="module")
def admin_dsn(pg_available: None) -> str:
    return os.environ.get("BRIDGE_TEST_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def conformance(*argv: str, path: str = "/usr/bin:/bin") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", "conformance", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": path},
    )


def test_no_harness_skips_everything_with_a_reason_and_fails(admin_dsn: str) -> None:
    proc = conformance("--dsn", admin_dsn, "-k", "schema.")
    assert proc.returncode == 1
    assert "live suite skipped: no Elixir harness given" in proc.stdout
    assert "SKIP" in proc.stdout and "0 passed, 0 failed, 6 skipped" in proc.stdout
    assert "skipped every scenario, so nothing was tested" in proc.stderr
    allowed = conformance("--dsn", admin_dsn, "-k", "schema.", "--allow-skips")
    assert allowed.returncode == 0 and "0 passed, 0 failed, 6 skipped" in allowed.stdout


def test_a_harness_that_does_not_build_is_an_error_showing_the_build_tail(
    admin_dsn: str, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mix = bin_dir / "mix"
    mix.write_text(
        "#!/bin/sh\n"
        "echo 'Compiling 3 files (.ex)'\n"
        "echo '== Compilation error in file lib/bridge_harness/cli.ex ==' >&2\n"
        "echo '** (CompileError) undefined function frobnicate/0' >&2\n"
        "exit 1\n"
    )
    mix.chmod(0o755)
    harness = tmp_path / "harness"
    harness.mkdir()
    proc = conformance(
        "--dsn", admin_dsn, "-k", "schema.", "--harness", str(harness), "--allow-skips",
        path=f"{bin_dir}:/usr/bin:/bin",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the harness could not start: `mix compile` failed" in proc.stderr
    assert "** (CompileError) undefined function frobnicate/0" in proc.stderr
    assert "0 passed, 6 failed, 0 skipped" in proc.stdout and "ERROR" in proc.stdout


def test_no_mix_on_path_is_an_error(admin_dsn: str, tmp_path: Path) -> None:
    proc = conformance(
        "--dsn", admin_dsn, "-k", "schema.", "--harness", str(tmp_path), path=str(tmp_path)
    )
    assert proc.returncode == 1
    assert "the harness could not start: cannot run mix" in proc.stderr


def test_a_malformed_dsn_is_one_line_without_its_password() -> None:
    proc = conformance("--offline", "--dsn", "postgresql://u:s3cret PW@h/db", "-k", "schema.")
    assert proc.returncode == 1 and "s3cret" not in proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        'conformance: error: invalid database DSN: unexpected spaces found in "***", '
        "use percent-encoded spaces (%20) instead"
    ]
