"""The signal commands as a user runs them: a subprocess, real PostgreSQL, and a LISTENing
session standing in for the Elixir and Python nodes."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import psycopg
import pytest

from bridge.wire import notify

pytestmark = pytest.mark.pg


def cli(*argv: str, dsn: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["DATABASE_URL"] = dsn
    return subprocess.run(
        [sys.executable, "-m", "bridge", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def _heard(conn: psycopg.Connection[Any]) -> list[str]:
    return [n.payload for n in conn.notifies(timeout=0.3, stop_after=20)]


def test_each_command_sends_oban_s_payload(dsn: str) -> None:
    big_node = "n" * 600
    runs = [
        (("pause", "media"), '{"action":"pause","ident":"any","queue":"media"}'),
        (("resume", "--all"), '{"action":"resume","ident":"any","queue":"*"}'),
        (
            ("pause", "--all", "--node", "web-1", "--instance", "MyApp.Oban"),
            '{"action":"pause","ident":"MyApp.Oban.web-1","queue":"*"}',
        ),
        (("scale", "media", "5"), '{"action":"scale","ident":"any","limit":5,"queue":"media"}'),
        (
            ("start-queue", "media", "--limit", "2", "--paused", "--node", "py-1"),
            '{"action":"start","ident":"Oban.py-1","limit":2,"paused":true,"queue":"media"}',
        ),
        (("stop-queue", "media"), '{"action":"stop","ident":"any","queue":"media"}'),
        (
            ("resume", "media", "--node", big_node, "--compress"),
            notify.resume_message("media", node=big_node, compress=True),
        ),
    ]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute('LISTEN "public.oban_signal"')
        for argv, payload in runs:
            out = cli(*argv, dsn=dsn)
            assert out.returncode == 0, out.stderr
            assert out.stdout.startswith("sent ") and out.stdout.count("\n") == 1
            assert _heard(conn) == [payload], argv
    assert runs[-1][1].startswith("Z:")


def test_a_v12_cluster_needs_no_schema_version_and_a_wrong_prefix_is_refused(
    migrated: Any,
) -> None:
    dsn = migrated(12)
    assert cli("pause", "media", dsn=dsn).returncode == 0
    wrong = cli("pause", "media", "--prefix", "tenant_x", dsn=dsn)
    assert wrong.returncode == 1 and wrong.stdout == ""
    assert wrong.stderr.startswith("oban-bridge: error: no Oban schema in 'tenant_x'")
