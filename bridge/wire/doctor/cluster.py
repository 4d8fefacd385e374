"""Cluster rules: the leader, the notifier, who was heard, and ``Z:`` next to old nodes."""

from __future__ import annotations

from bridge.wire.doctor._facts import SLOW_ROUND_TRIP, Facts, Finding, plural
from bridge.wire.status import duration


def leadership(facts: Facts) -> list[Finding]:
    now = facts.db.read_at
    live = [p for p in facts.db.peers if p.expires_at >= now]
    start = (
        "start a node: any Elixir node (peer: Oban.Peers.Database, the default) or "
        "oban-bridge work (elects under 'Bridge'; --peer-name Oban joins Elixir's election)"
    )
    if not live:
        # mirrors lib/oban/peers/database.ex: the leader renews its 30 s lease; the stager,
        # pruner, lifeline and cron run only on a leader (wire spec §4)
        gone = "; ".join(
            f"{p.name!r} held by {p.node} expired {duration((now - p.expires_at).total_seconds())}"
            " ago"
            for p in facts.db.peers
        )
        why = f" ({gone})" if gone else " (oban_peers is empty)"
        return [
            Finding(
                "no_leader",
                "error",
                f"no live leader{why}: nothing stages scheduled or retryable jobs, prunes, "
                "rescues or inserts cron jobs",
                start,
            )
        ]
    if len(live) > 1:
        names = ", ".join(f"{p.name!r} led by {p.node}" for p in live)
        return [
            Finding(
                "several_elections",
                "info",
                f"{len(live)} elections: {names}. Each leader stages and prunes (harmless); "
                "run cron on one side only, or its jobs are inserted twice",
            )
        ]
    return [Finding("leader", "info", f"{live[0].node} leads the {live[0].name!r} election")]


def notifier(facts: Facts) -> list[Finding]:
    fix = (
        "connect nodes to PostgreSQL directly or through a session-mode pooler (LISTEN does "
        "not survive transaction pooling)"
    )
    if facts.round_trip is None:
        return [
            Finding(
                "notifier_down",
                "error",
                "a NOTIFY sent by this doctor never came back to its own LISTEN: signals, "
                "insert wake-ups, sonar and gossip do not reach nodes connected this way",
                fix,
            )
        ]
    took = f"{facts.round_trip * 1000:.0f} ms"
    if facts.round_trip > SLOW_ROUND_TRIP:
        return [
            Finding(
                "notifier_slow",
                "warning",
                f"notifier round trip took {took}: signals and wake-ups arrive as late",
                "look for long transactions holding the notification queue "
                "(pg_notification_queue_usage()) and for an overloaded server",
            )
        ]
    return [Finding("notifier", "info", f"notifier round trip {took}")]


def heard(facts: Facts) -> list[Finding]:
    if facts.nodes:
        parts = (f"{s.node} ({'+'.join(sorted(s.channels))})" for s in facts.nodes)
        return [Finding("nodes_heard", "info", "nodes heard: " + ", ".join(parts))]
    return [
        Finding(
            "nodes_heard",
            "info",
            f"no node heard on sonar or gossip within {facts.window:g}s (Oban ≥ 2.21 pings "
            "every 5–60 s, so a node can be silent that long; ≤ 2.20 every 5 s); rules that "
            "need a node's queues rely on recent attempts only",
        )
    ]


def compression(facts: Facts) -> list[Finding]:
    """≤ 2.20 nodes (detected: every payload they send is base64(gzip), ``H4sI…``) must never
    receive ``Z:`` payloads — mirrors lib/oban/notifier.ex@v2.18.3 decode/1 (Jason.decode!)."""
    legacy = sorted(s.node for s in facts.nodes if s.legacy)
    senders = sorted(s.node for s in facts.nodes if "z" in s.forms)
    version = facts.db.schema.version
    if legacy and (facts.z_enabled or senders or facts.z_signals):
        who = ", ".join(
            (["Python senders (compress_signals)"] if facts.z_enabled else [])
            + [f"{n} (heard)" for n in senders]
            + ([f"{plural(facts.z_signals, 'signal')} heard"] if facts.z_signals else [])
        )
        return [
            Finding(
                "z_with_legacy_nodes",
                "error",
                f"Oban ≤ 2.20 node(s) {', '.join(legacy)} (heard sending base64-gzip payloads) "
                f"share the notifier with 'Z:' payloads from {who}: one 'Z:' payload crashes "
                "their notifier and leaves their producers deaf until restarted",
                "turn 'Z:' compression off in every Python sender, and upgrade "
                f"{', '.join(legacy)} to Oban ≥ 2.21 before any Elixir payload exceeds 512 "
                "bytes",
            )
        ]
    if facts.z_enabled and version is not None and 0 < version < 14:
        return [
            Finding(
                "z_with_old_schema",
                "warning",
                f"'Z:' compression is configured while the schema is at V{version}, which only "
                "clusters with Oban ≤ 2.20 nodes keep",
                "turn 'Z:' compression off until every node runs Oban ≥ 2.21 and the schema "
                "is at V14",
            )
        ]
    if legacy:
        return [
            Finding(
                "legacy_nodes",
                "info",
                f"Oban ≤ 2.20 node(s) {', '.join(legacy)} heard: keep 'Z:' compression off",
            )
        ]
    return []
