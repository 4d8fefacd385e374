"""``oban-bridge status`` against a real database while sonar and gossip payloads are
published: Elixir's recorded 2.18.3 ping, an oban_met check, and the Python runtime's own."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from cluster_support import PYTHON_UUID, Publisher, mixed_cluster

from bridge.cli import main

pytestmark = pytest.mark.pg


def plant(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO oban_peers (name, node, started_at, expires_at) VALUES "
            "('Oban', 'web-1', timezone('UTC', now()), timezone('UTC', now()) + interval '20 s'),"
            "('Bridge', 'py-1', timezone('UTC', now()), timezone('UTC', now()) - interval '5 m')"
        )
        conn.execute(
            "INSERT INTO oban_jobs (queue, worker, args, scheduled_at) SELECT 'mailers', "
            "'MyApp.Mailer', '{}', timezone('UTC', now()) - interval '90 seconds' "
            "FROM generate_series(1, 3)"
        )
        conn.execute(
            "INSERT INTO oban_jobs (state, queue, worker, args, scheduled_at) VALUES "
            "('scheduled', 'py', 'py.tasks.send', '{}', timezone('UTC', now()) + interval '1 h')"
        )
        conn.execute(
            "INSERT INTO oban_jobs (state, queue, worker, args, attempt, attempted_at, "
            "attempted_by) VALUES ('executing', 'py', 'py.tasks.send', '{}', 1, "
            f"timezone('UTC', now()), '{{py-1,{PYTHON_UUID}}}')"
        )


def status(capsys: Any, dsn: str, *extra: str) -> str:
    assert main(["status", "--dsn", dsn, "--wait", "1.2", *extra]) == 0
    out: str = capsys.readouterr().out
    return out


def test_status_json_merges_what_was_heard_with_the_tables(dsn: str, capsys: Any) -> None:
    plant(dsn)
    with Publisher(dsn, mixed_cluster()):
        data = json.loads(status(capsys, dsn, "--json"))
    nodes = {n["node"]: n for n in data["nodes"]}
    assert set(nodes) == {"web-1", "py-1", "vec-elixir-1"}
    assert (nodes["web-1"]["language"], nodes["web-1"]["queues"]) == ("elixir", 1)
    assert (nodes["py-1"]["language"], nodes["py-1"]["executing"]) == ("python", 1)
    assert nodes["vec-elixir-1"]["legacy_encoding"] and nodes["vec-elixir-1"]["via"] == ["sonar"]
    assert all(0 <= n["heard_ago"] < 1.2 for n in data["nodes"])
    assert [(p["name"], p["node"], p["live"]) for p in data["leaders"]] == [
        ("Bridge", "py-1", False),
        ("Oban", "web-1", True),
    ]
    producers = {(p["node"], p["queue"]): p for p in data["producers"]}
    assert set(producers) == {("web-1", "mailers"), ("py-1", "py")}
    web, py = producers["web-1", "mailers"], producers["py-1", "py"]
    assert (web["limit"], web["paused"], web["running"], web["language"]) == (
        10,
        False,
        2,
        "elixir",
    )
    assert (py["limit"], py["paused"], py["workers"]) == (20, True, ["py.tasks.send"])
    queues = {q["queue"]: q for q in data["queues"]}
    assert queues["mailers"]["counts"] == {"available": 3}
    assert 90 <= queues["mailers"]["oldest_available"] < 120
    assert queues["py"]["counts"] == {"scheduled": 1, "executing": 1}
    assert queues["py"]["oldest_available"] is None
    assert data["rejected"] == 0


def test_status_text_fits_80_columns(dsn: str, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    plant(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:  # a long queue name is cut, not wrapped
        conn.execute(
            "INSERT INTO oban_jobs (queue, worker, args) VALUES (%s, 'MyApp.W', '{}')",
            ("a_very_long_queue_name_" * 4,),
        )
    with Publisher(dsn, mixed_cluster()):
        out = status(capsys, dsn)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    assert any(line.split()[:4] == ["mailers", "web-1", "elixir", "10"] for line in lines), out
    assert any(line.split()[:2] == ["vec-elixir-1", "elixir"] and "≤2.20" in line for line in lines)
    assert any(line.split()[:2] == ["Oban", "web-1"] and line.endswith("s left") for line in lines)
    assert any(line.split() == ["Bridge", "py-1", "expired", "5m", "ago"] for line in lines), out
    assert any(line.startswith("a_very_long_queue") and "…" in line for line in lines), out


def test_nothing_heard_is_said_honestly(dsn: str, capsys: Any) -> None:
    out = status(capsys, dsn, "--wait", "0.2")
    assert "NODES: none heard on sonar or gossip" in out
    assert "Oban ≥ 2.21 pings every 5–60 s" in out
    assert "LEADER: none" in out
