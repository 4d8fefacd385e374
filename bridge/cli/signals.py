"""``oban-bridge pause | resume | scale | start-queue | stop-queue``: Oban's queue signals.

What ``Oban.pause_queue/2`` and friends send, so Elixir and Python nodes obey alike.
A signal has no reply: the command exits 0 once PostgreSQL took the notification, and
says what it sent and to whom. A refused value (limit 0, an 8000-byte payload) exits 1
before anything is sent.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bridge.cli import add_dsn, require_dsn
from bridge.cli._common import printable
from bridge.names import SCHEMA_VERSIONS
from bridge.pg.client import Client
from bridge.wire.notify import DEFAULT_INSTANCE


def register(sub: Any) -> None:
    for name, text in (
        ("pause", "pause a queue (or --all) on every node or one: running jobs finish"),
        ("resume", "resume a paused queue (or --all) on every node or one"),
    ):
        parser = _parser(sub, name, text)
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("queue", nargs="?", help="the queue's name")
        which.add_argument("--all", action="store_true", help=f"{name} every queue")
        _add_scope(parser)
    scale = _parser(sub, "scale", "change a running queue's concurrency limit (per node)")
    scale.add_argument("queue", help="the queue's name")
    scale.add_argument("limit", type=int, help="the new limit: jobs at once on each node")
    _add_scope(scale)
    start = _parser(
        sub, "start-queue", "start a queue the nodes do not run yet, until they restart"
    )
    start.add_argument("queue", help="the queue's name")
    start.add_argument(
        "--limit", type=int, required=True, help="jobs at once on each node (required)"
    )
    start.add_argument("--paused", action="store_true", help="start it paused (resume later)")
    _add_scope(start)
    stop = _parser(
        sub, "stop-queue", "stop a queue until the nodes restart; running jobs get the grace period"
    )
    stop.add_argument("queue", help="the queue's name")
    _add_scope(stop)


def _parser(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=text,
        description=f"{text[0].upper()}{text[1:]}. Sends Oban's own signal, so Elixir and "
        "Python nodes obey it alike; there is no reply.",
    )
    parser.set_defaults(func=run, signal=name)
    return parser


def _add_scope(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--node", help="only this node (as its Oban config names it)")
    parser.add_argument(
        "--instance",
        default=DEFAULT_INSTANCE,
        help="the Elixir instance name --node is addressed under, as inspect/1 prints it "
        f"(default: {DEFAULT_INSTANCE})",
    )
    parser.add_argument(
        "--compress",
        action="store_true",
        help="gzip payloads over 512 bytes as Oban ≥ 2.21 does; only when every Elixir node "
        "runs 2.21 or later (older ones stop hearing signals)",
    )
    add_dsn(parser)


def run(args: argparse.Namespace) -> int:
    scope = {"node": args.node, "instance": args.instance}
    # a signal needs no table: the check only proves the prefix holds an Oban schema
    with Client(
        require_dsn(args.dsn),
        prefix=args.prefix,
        schema_version=min(SCHEMA_VERSIONS),
        compress_signals=args.compress,
    ) as client:
        _send(client, args, scope)
    print(_said(args))
    return 0


def _send(client: Client, args: argparse.Namespace, scope: dict[str, Any]) -> None:
    every = getattr(args, "all", False)
    if args.signal == "pause" and every:
        client.pause_all_queues(**scope)
    elif args.signal == "pause":
        client.pause_queue(args.queue, **scope)
    elif args.signal == "resume" and every:
        client.resume_all_queues(**scope)
    elif args.signal == "resume":
        client.resume_queue(args.queue, **scope)
    elif args.signal == "scale":
        client.scale_queue(args.queue, args.limit, **scope)
    elif args.signal == "start-queue":
        client.start_queue(args.queue, args.limit, paused=args.paused, **scope)
    else:
        client.stop_queue(args.queue, **scope)


def _said(args: argparse.Namespace) -> str:
    """One line: what was sent, to which queue, on which nodes."""
    verb = {"start-queue": "start", "stop-queue": "stop"}.get(args.signal, args.signal)
    if args.signal == "scale":
        verb = f"scale (limit {args.limit})"
    elif args.signal == "start-queue":
        verb = f"start (limit {args.limit}{', paused' if args.paused else ''})"
    what = "all queues" if getattr(args, "all", False) else f"queue {_quoted(args.queue)}"
    where = "all nodes" if args.node is None else f"node {_quoted(args.node)}"
    return f"sent {verb} to {what} on {where}"


def _quoted(name: str) -> str:
    return printable(json.dumps(name, ensure_ascii=False))
