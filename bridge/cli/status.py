"""``oban-bridge status``: one view of a mixed cluster — nodes, leaders, queues, jobs.

Nodes are those heard on sonar and gossip while listening (``--wait``) or executing jobs;
queues per node come from gossip (Python nodes always, Elixir nodes where oban_met runs);
leaders and job counts from the tables. ``--watch`` keeps listening and redraws in place.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from bridge.cli import add_dsn, require_dsn
from bridge.cli._common import printable
from bridge.names import STATES
from bridge.pg.cluster import ClusterListener, read_status
from bridge.pg.source import Source
from bridge.wire.cluster import SONAR_STALE_AFTER
from bridge.wire.status import ClusterStatus, duration, status_dict

WAIT = 6.0  # seconds: Oban ≤ 2.20 pings every 5 s (lib/oban/sonar.ex@v2.18.3), ≥ 2.21 every 5–60 s
INTERVAL = 2.0
#: column headings of the job table, in the enum's order (lib/oban/migrations/postgres/v14.ex)
SHORT = {
    "available": "AVAIL",
    "suspended": "SUSP",
    "scheduled": "SCHED",
    "executing": "EXEC",
    "retryable": "RETRY",
    "completed": "DONE",
    "discarded": "DISC",
    "cancelled": "CANC",
}


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "status",
        help="nodes, leaders, queues and job counts of the whole cluster (Elixir and Python)",
        description="Listen to sonar and gossip for a few seconds, read leaders and job counts, "
        "and show the cluster: nodes heard, leader rows, each queue per node (limit, paused, "
        "running) and jobs per queue and state.",
    )
    add_dsn(parser)
    parser.add_argument(
        "--wait",
        type=float,
        default=WAIT,
        metavar="SECONDS",
        help=f"how long to listen for nodes (default: {WAIT:g}); Elixir ≥ 2.21 pings every "
        "5–60 s, so a quiet node may not be heard within a short window",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (one line per refresh)")
    parser.add_argument("--watch", action="store_true", help="keep listening and redraw; Ctrl-C")
    parser.add_argument(
        "--interval",
        type=float,
        default=INTERVAL,
        metavar="SECONDS",
        help=f"with --watch: seconds between refreshes (default: {INTERVAL:g})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dsn = require_dsn(args.dsn)
    with (
        Source(dsn, prefix=args.prefix, schema_version=12) as source,
        ClusterListener(dsn, source.prefix) as listener,
    ):
        if not args.watch:
            listener.listen(max(args.wait, 0.0))
            _print(read_status(source, listener, args.wait), as_json=args.json)
            return 0
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends a watch: exit 0
            _watch(source, listener, args)
    return 0


def _print(status: ClusterStatus, *, as_json: bool, indent: int | None = 2) -> None:
    if as_json:
        print(json.dumps(status_dict(status), indent=indent, ensure_ascii=False), flush=True)
    else:
        Console(highlight=False).print(render(status))


def _watch(source: Source, listener: ClusterListener, args: argparse.Namespace) -> None:
    started = time.monotonic()

    def window() -> float:
        return min(time.monotonic() - started, SONAR_STALE_AFTER)

    if args.json:
        while True:
            listener.listen(max(args.interval, 0.1))
            _print(read_status(source, listener, window()), as_json=True, indent=None)
    console = Console(highlight=False)
    with Live(console=console, auto_refresh=False) as live:
        while True:
            live.update(render(read_status(source, listener, window()), watching=True))
            live.refresh()
            listener.listen(max(args.interval, 0.1))


# --- rendering -----------------------------------------------------------------------------


_TEXT = {"NODE", "LANG", "VIA", "ELECTION", "LEADER", "QUEUE", "PAUSED"}


def _table(*columns: str) -> Table:
    """Names left, numbers right; a long first cell is cut with an ellipsis."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    for name in columns:
        table.add_column(name, justify="left" if name in _TEXT else "right", overflow="ellipsis")
    table.columns[0].max_width = 28
    return table


def _t(value: str) -> Text:
    """A cell: escaped, never read as rich markup."""
    return Text(printable(value))


def render(status: ClusterStatus, *, watching: bool = False) -> RenderableType:
    when = f"{status.read_at:%Y-%m-%d %H:%M:%S} UTC"
    listened = (
        f"listening for {duration(status.window)}" if watching else (f"listened {status.window:g}s")
    )
    head = Text(f"prefix {printable(status.prefix)} · {when} · {listened}", style="bold")
    parts: list[RenderableType] = [head, ""]
    parts += [*_nodes(status), "", *_leaders(status), "", *_producers(status), "", *_jobs(status)]
    if status.rejected:
        parts += ["", Text(f"{status.rejected} malformed sonar/gossip payloads ignored")]
    if watching:
        parts += ["", Text("Ctrl-C to quit", style="dim")]
    return Group(*parts)


def _nodes(status: ClusterStatus) -> list[RenderableType]:
    note = Text(
        "Nodes silent during the window are not listed (Oban ≥ 2.21 pings every 5–60 s).",
        style="dim",
    )
    if not status.nodes:
        return [Text("NODES: none heard on sonar or gossip, none executing jobs"), note]
    table = _table("NODE", "LANG", "HEARD", "VIA", "QUEUES", "EXEC")
    for n in status.nodes:
        lang = n.language + (" ≤2.20" if n.legacy else "")
        heard = "-" if n.heard_ago is None else f"{duration(n.heard_ago)} ago"
        table.add_row(_t(n.node), lang, heard, ",".join(n.via), str(n.queues), str(n.executing))
    return [table, note]


def _leaders(status: ClusterStatus) -> list[RenderableType]:
    if not status.leaders:
        return [Text("LEADER: none (oban_peers is empty): nothing stages scheduled jobs")]
    table = _table("ELECTION", "LEADER", "LEASE")
    for p in status.leaders:
        lease = (
            f"{duration(p.expires_in)} left" if p.live else f"expired {duration(-p.expires_in)} ago"
        )
        table.add_row(_t(p.name), _t(p.node), lease)
    return [table]


def _producers(status: ClusterStatus) -> list[RenderableType]:
    if not status.producers:
        return [Text("QUEUES: no check-ins heard on gossip (Elixir nodes send them with oban_met)")]
    table = _table("QUEUE", "NODE", "LANG", "LIMIT", "PAUSED", "RUNNING")
    for c in status.producers:
        limit = "-" if c.limit is None else str(c.limit)
        paused = "yes" if c.paused else "no"
        table.add_row(_t(c.queue), _t(c.node), c.language, limit, paused, str(c.running))
    return [table]


def _jobs(status: ClusterStatus) -> list[RenderableType]:
    if not status.queues:
        return [Text("JOBS: none")]
    used = [s for s in STATES if s != "suspended" or any(s in q.counts for q in status.queues)]
    table = _table("QUEUE", *(SHORT[s] for s in used), "WAIT")
    for q in status.queues:
        counts = [str(q.counts.get(s, 0)) for s in used]
        wait = "-" if q.oldest_available is None else duration(q.oldest_available)
        table.add_row(_t(q.queue), *counts, wait)
    return [table, Text("WAIT: how long the oldest available job has been due", style="dim")]
