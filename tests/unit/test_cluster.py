"""What ``status`` hears and merges: Elixir's recorded sonar and gossip bytes are the oracle."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import DecodeError
from bridge.wire.cluster import GOSSIP_TTL, SONAR_STALE_AFTER, Heard, decode_check, payload_form
from bridge.wire.gossip import ProducerCheck, encode_gossip, encode_sonar
from bridge.wire.notify import encode_legacy
from bridge.wire.producer_id import producer_uuid
from bridge.wire.status import DbStatus, PeerRow, cluster_status, duration, status_dict

VECTORS = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "notify" / "sonar_gossip.json").read_text()
)["versions"]
NOW = datetime(2026, 12, 1, 12, 0, 0)
PY_UUID = producer_uuid(4242, 7)


def _check(node: str, queue: str, uuid: str, **extra: Any) -> dict[str, Any]:
    return {
        "node": node,
        "name": "Oban",
        "queue": queue,
        "limit": 10,
        "paused": False,
        "running": [],
        "uuid": uuid,
        **extra,
    }


def _gossip(*checks: dict[str, Any]) -> str:
    return json.dumps({"checks": list(checks)})


@pytest.mark.parametrize(
    ("version", "channel", "form"),
    [
        ("2.18.3", "sonar", "legacy"),
        ("2.18.3", "gossip", "legacy"),
        ("2.23.1", "sonar", "plain"),
        ("2.23.1", "gossip", "z"),
    ],
)
def test_elixirs_recorded_payloads_are_heard_in_their_form(
    version: str, channel: str, form: str
) -> None:
    heard = Heard()
    heard.hear(channel, VECTORS[version][channel]["payload"], at=1.0)
    assert payload_form(VECTORS[version][channel]["payload"]) == form
    sighting = heard.nodes["vec-elixir-1"]
    assert sighting.forms == {form} and sighting.channels == {channel}
    assert sighting.legacy is (version == "2.18.3")
    assert heard.rejected == 0
    if channel == "gossip":
        checks = heard.live_checks()
        assert [(c.queue, c.limit, c.running) for c in checks] == [
            ("alpha", 10, 2),
            ("beta", 11, 2),
            ("delta", 13, 2),
            ("gamma", 12, 2),
        ]
        assert {c.language for c in checks} == {"elixir"}


def test_python_payloads_from_the_runtimes_encoders() -> None:
    heard = Heard()
    check = ProducerCheck(
        node="py-1",
        name="Oban",
        queue="badges",
        limit=5,
        paused=True,
        uuid=PY_UUID,
        started_at=NOW,
        updated_at=NOW,
        refresh_interval=60000,
        running=(1, 2, 3),
        workers=("b.W", "a.W"),
    )
    heard.hear("sonar", encode_sonar("py-1"), at=1.0)
    for payload in encode_gossip([check]).payloads:
        heard.hear("gossip", payload, at=1.0)
    (got,) = heard.live_checks()
    assert (got.node, got.queue, got.limit, got.paused, got.running) == (
        "py-1",
        "badges",
        5,
        True,
        3,
    )
    assert got.language == "python" and got.workers == ("a.W", "b.W")
    assert not heard.nodes["py-1"].legacy


def test_a_python_oversized_check_in_legacy_form_says_nothing_of_an_oban_version() -> None:
    heard = Heard()
    heard.hear("gossip", encode_legacy({"checks": [_check("py-1", "q", PY_UUID)]}), at=1.0)
    heard.hear("gossip", encode_legacy({"checks": [_check("ex-1", "q", "a-v4-uuid")]}), at=1.0)
    assert not heard.nodes["py-1"].legacy
    assert heard.nodes["ex-1"].legacy


def test_limit_local_limit_and_the_required_keys() -> None:
    # mirrors oban_met examiner.ex: node, name, queue required; "limit" stored as local_limit
    assert decode_check(_check("n", "q", "u")).limit == 10
    pro = _check("n", "q", "u")
    pro["local_limit"] = pro.pop("limit")
    assert decode_check(pro).limit == 10
    for key in ("node", "name", "queue"):
        broken = _check("n", "q", "u")
        del broken[key]
        with pytest.raises(DecodeError, match=key):
            decode_check(broken)


@pytest.mark.parametrize(
    ("channel", "payload"),
    [
        ("sonar", "not json"),
        ("sonar", "[1, 2]"),
        ("sonar", '{"ping": true}'),
        ("sonar", '{"node": 7}'),
        ("gossip", '{"checks": {}}'),
        ("gossip", "Z:AAAA"),
        ("gossip", _gossip({"node": "n", "queue": "q"})),
        ("gossip", _gossip("text")),
    ],
)
def test_garbage_is_counted_and_skipped(channel: str, payload: str) -> None:
    heard = Heard()
    heard.hear(channel, payload, at=1.0)
    assert heard.rejected == 1
    assert heard.nodes == {} and heard.checks == {}


def test_the_latest_check_per_node_name_queue_wins_and_stale_ones_go() -> None:
    heard = Heard()
    heard.hear("gossip", _gossip(_check("a", "q", "u", limit=1)), at=1.0)
    heard.hear("gossip", _gossip(_check("a", "q", "u", limit=2), _check("b", "q", "v")), at=2.0)
    assert [(c.node, c.limit) for c in heard.live_checks()] == [("a", 2), ("b", 10)]
    heard.hear("sonar", '{"node":"c","ping":true}', at=2.0 + GOSSIP_TTL)
    heard.forget(2.0 + GOSSIP_TTL + 0.5)
    assert heard.live_checks() == []
    assert set(heard.nodes) == {"a", "b", "c"}
    heard.forget(2.0 + SONAR_STALE_AFTER + 0.5)
    assert set(heard.nodes) == {"c"}


def test_z_signals_are_counted() -> None:
    heard = Heard()
    heard.hear("signal", "Z:" + encode_legacy({"action": "pause", "queue": "q"}), at=1.0)
    heard.hear("signal", '{"action":"pause","queue":"q"}', at=1.0)
    assert heard.z_signals == 1


def _db(**kw: Any) -> DbStatus:
    base: dict[str, Any] = {"peers": (), "counts": {}, "oldest_available": {}, "executing": {}}
    return DbStatus(**{**base, **kw})


def test_status_merges_nodes_leaders_producers_and_jobs() -> None:
    heard = Heard()
    heard.hear("sonar", VECTORS["2.18.3"]["sonar"]["payload"], at=10.0)  # vec-elixir-1, old
    heard.hear("sonar", '{"node":"web-1","ping":true}', at=12.0)
    heard.hear("gossip", _gossip(_check("py-1", "py", PY_UUID, running=[7], workers=["w"])), 13.0)
    db = _db(
        peers=(
            PeerRow("Oban", "web-1", NOW, NOW + timedelta(seconds=20)),
            PeerRow("Bridge", "py-1", NOW, NOW - timedelta(seconds=5)),
        ),
        counts={("py", "available"): 3, ("py", "completed"): 9, ("mail", "executing"): 2},
        oldest_available={"py": NOW - timedelta(minutes=5)},
        executing={"web-1": (2, False), "cron-9": (1, True)},
    )
    status = cluster_status("public", heard, db, now=NOW, at=15.0, window=6.0)
    nodes = {n.node: n for n in status.nodes}
    assert set(nodes) == {"vec-elixir-1", "web-1", "py-1", "cron-9"}
    assert nodes["vec-elixir-1"].language == "elixir" and nodes["vec-elixir-1"].legacy
    assert nodes["web-1"].language == "elixir" and nodes["web-1"].executing == 2
    assert nodes["py-1"].language == "python" and nodes["py-1"].queues == 1
    assert nodes["py-1"].heard_ago == 2.0 and nodes["py-1"].via == ("gossip",)
    assert nodes["cron-9"].language == "python" and nodes["cron-9"].heard_ago is None
    assert [(p.name, p.live) for p in status.leaders] == [("Oban", True), ("Bridge", False)]
    assert [(q.queue, dict(q.counts), q.oldest_available) for q in status.queues] == [
        ("mail", {"executing": 2}, None),
        ("py", {"available": 3, "completed": 9}, 300.0),
    ]
    data = json.loads(json.dumps(status_dict(status)))
    assert data["producers"] == [
        {
            "node": "py-1",
            "name": "Oban",
            "queue": "py",
            "limit": 10,
            "paused": False,
            "running": 1,
            "uuid": PY_UUID,
            "language": "python",
            "workers": ["w"],
        }
    ]
    assert data["read_at"] == "2026-12-01T12:00:00Z"
    assert data["leaders"][1] == {
        "name": "Bridge",
        "node": "py-1",
        "live": False,
        "expires_in": -5.0,
    }


def test_durations() -> None:
    assert [duration(s) for s in (0.4, 59, 61, 7200, 90000, -3)] == [
        "0s",
        "59s",
        "1m",
        "2h",
        "1d",
        "0s",
    ]
