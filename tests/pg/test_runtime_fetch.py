"""The claim statement on its own: the same rows either way, and the no-flush-wait commit
stays local to the claim's own transaction."""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg
import pytest

from bridge import Client
from bridge.ops.acks import fetch_jobs
from bridge.pg.source import Source

pytestmark = pytest.mark.pg

WORKER = "BridgeTest.Claimed"


def claim(conn: psycopg.Connection[object], *, durable: bool) -> list[int]:
    now = datetime.now(timezone.utc)
    op = fetch_jobs(
        "public", "q", [WORKER], 10, now=now, attempted_by=["n1", "u1"], durable=durable
    )
    rows = Source(conn).run(op, atomic=False)
    return sorted(r[0] for r in rows)


@pytest.mark.parametrize("durable", [True, False])
def test_claim_commits_and_leaves_the_session_setting_alone(dsn: str, durable: bool) -> None:
    with Client(dsn) as client:
        ids = sorted(client.enqueue(WORKER, {"n": n}, queue="q").id or 0 for n in range(3))
    with psycopg.connect(dsn, autocommit=True) as conn, psycopg.connect(dsn) as other:
        assert claim(conn, durable=durable) == ids
        setting = conn.execute("SHOW synchronous_commit").fetchone()
        assert setting == ("on",), "the claim's SET LOCAL leaked into the session"
        states = other.execute(
            "SELECT state::text, attempt FROM oban_jobs WHERE id = ANY(%s)", (ids,)
        ).fetchall()
        assert states == [("executing", 1)] * 3  # committed: another session sees it
        assert claim(conn, durable=durable) == []
