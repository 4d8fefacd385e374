"""examples/badge_forge live, end to end: Elixir enqueues badge jobs for a Python worker, which
renders an SVG and enqueues a print job for an Elixir worker; Python waits for both and reads
what each side recorded (ETF), and Elixir reads back what Python recorded.

Needs ``mix`` and a compiled copy of ``examples/badge_forge/elixir`` with Oban available
(``BADGE_FORGE_ELIXIR``; see examples/badge_forge/README.md). Without ``BADGE_FORGE_ELIXIR``
the test is skipped with that reason; set but unusable, it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.pg

RUN = Path(__file__).resolve().parents[2] / "examples" / "badge_forge" / "run.py"
COUNT = 3


@pytest.fixture
def elixir_project() -> Path:
    where = os.environ.get("BADGE_FORGE_ELIXIR")
    if not where:
        pytest.skip(
            "BADGE_FORGE_ELIXIR is not set: point it to a compiled copy of "
            "examples/badge_forge/elixir with Oban (examples/badge_forge/README.md)"
        )
    project = Path(where)
    assert (project / "mix.exs").is_file(), f"BADGE_FORGE_ELIXIR={where}: no mix.exs there"
    assert shutil.which("mix"), "BADGE_FORGE_ELIXIR is set but `mix` is not on PATH"
    return project


def _badge_databases(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'badge_forge_%'")
        return sorted(row[0] for row in rows)


def test_badge_forge_runs_end_to_end(elixir_project: Path, empty_dsn: str) -> None:
    before = _badge_databases(empty_dsn)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    argv = [sys.executable, str(RUN), "--dsn", empty_dsn, "--elixir", str(elixir_project)]
    argv += ["--count", str(COUNT), "--timeout", "60"]
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env=env,
        timeout=420,  # a cold start compiles Oban
    )
    out = proc.stdout
    print(out)  # shown with -s, and in the failure report
    assert proc.returncode == 0, out + proc.stderr
    assert re.search(r"elixir: Oban \d+\.\d+\.\d+ on Elixir \S+ \(OTP \d+\) enqueued", out), out
    # each badge: rendered by Python, printed by Elixir, Elixir's recorded value read by Python
    assert out.count("badge_forge.generator.GenerateBadge completed") == COUNT, out
    assert out.count("(BadgeForge.PrintWorker): completed") == COUNT, out
    printed = re.findall(r"elixir recorded: \{badge_id: (\d+), .*status: Atom\('printed'\)\}", out)
    assert sorted(int(n) for n in printed) == list(range(1, COUNT + 1)), out
    # and Elixir decoded the Python worker's Record
    assert len(re.findall(r'job \d+: %\{"badge_id" => \d+, .*"print_job_id" => \d+', out)) == COUNT
    assert len(re.findall(r"badge-\d{4}-[a-z-]+\.svg", out.splitlines()[-2])) == COUNT, out
    assert "elixir app exited with status 0" in out
    assert out.rstrip().splitlines()[-1].startswith("badge_forge: ok in ")
    assert _badge_databases(empty_dsn) == before  # its throw-away database is dropped
