"""A cluster made of payloads: sonar and gossip published with ``pg_notify`` while a command
listens, so the tests need no running node (and do not depend on its timing)."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg

from bridge.wire.gossip import ProducerCheck, encode_gossip, encode_sonar
from bridge.wire.producer_id import producer_uuid

VECTORS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "notify" / "sonar_gossip.json").read_text()
)["versions"]
#: Oban 2.18.3's own ping, recorded live: base64(gzip), node "vec-elixir-1"
OLD_ELIXIR_SONAR = VECTORS["2.18.3"]["sonar"]["payload"]
ELIXIR_UUID = "0d6bd0ae-2d5e-4a4e-9d4c-1d1b63b0e6a1"
PYTHON_UUID = producer_uuid(4242, 99)
T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)


def elixir_check(node: str, queue: str, limit: int, running: list[int]) -> dict[str, Any]:
    """A check as Elixir's producer returns it (lib/oban/engines/basic.ex check_meta/3)."""
    return {
        "limit": limit,
        "name": "Oban",
        "node": node,
        "paused": False,
        "queue": queue,
        "refresh_interval": 60000,
        "running": running,
        "shutdown_started_at": None,
        "started_at": "2026-12-01T00:00:00.000000Z",
        "updated_at": "2026-12-01T00:00:01.000000Z",
        "uuid": ELIXIR_UUID,
    }


def python_gossip(node: str, queue: str, limit: int, workers: tuple[str, ...]) -> list[str]:
    check = ProducerCheck(
        node=node,
        name="Oban",
        queue=queue,
        limit=limit,
        paused=True,
        uuid=PYTHON_UUID,
        started_at=T0,
        updated_at=T0,
        refresh_interval=60000,
        running=(),
        workers=workers,
    )
    return encode_gossip([check]).payloads


def mixed_cluster() -> list[tuple[str, str]]:
    """web-1 (Elixir ≥ 2.21 with oban_met: mailers), py-1 (Python: py), and an Oban 2.18.3
    node heard only on sonar."""
    return [
        ("sonar", '{"node":"web-1","ping":true}'),
        ("gossip", json.dumps({"checks": [elixir_check("web-1", "mailers", 10, [1, 2])]})),
        ("sonar", encode_sonar("py-1")),
        *(("gossip", p) for p in python_gossip("py-1", "py", 20, ("py.tasks.send",))),
        ("sonar", OLD_ELIXIR_SONAR),
    ]


class Publisher:
    """Publishes ``payloads`` every ``every`` seconds on ``<prefix>.oban_<channel>``."""

    def __init__(self, dsn: str, payloads: list[tuple[str, str]], prefix: str = "public"):
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.payloads = payloads
        self.prefix = prefix
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopped.is_set():
            for channel, payload in self.payloads:
                name = f"{self.prefix}.oban_{channel}"
                self.conn.execute("SELECT pg_notify(%s, %s)", (name, payload))
            self.stopped.wait(0.2)

    def __enter__(self) -> Publisher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.conn.close()
