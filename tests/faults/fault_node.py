"""Run one node for the fault tier: ``python tests/faults/fault_node.py --dsn … --queues …``.

It serves through ``Node.serve()`` (SIGTERM/SIGINT → graceful stop), as ``oban-bridge work``
does, and prints one JSON line, ``{"ready": …}``, on stdout once its producers fetch. Logs go
to stderr. (``oban-bridge work`` itself has no option for the rescue interval.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys

import fault_workers

from bridge.runtime.node import Node


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--queues", required=True, help="q=limit,…")
    parser.add_argument("--node", required=True)
    parser.add_argument("--grace", type=float, default=15.0)
    parser.add_argument("--rescue-interval", type=float, default=15.0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--peer-workaround", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format=f"%(asctime)s {args.node} %(name)s %(levelname)s %(message)s",
    )
    fault_workers.DSN, fault_workers.NODE = args.dsn, args.node
    queues = {q: int(n) for q, _, n in (p.partition("=") for p in args.queues.split(","))}
    node = Node(
        args.dsn,
        queues=queues,
        workers=[w for w in fault_workers.ALL if w.queue in queues],
        node=args.node,
        grace_period=args.grace,
        rescue_interval=args.rescue_interval,
        threads=args.threads,
    )
    asyncio.run(_serve(node))
    return 0


async def _serve(node: Node) -> None:
    async def announce() -> None:
        while not (node.producers and node.listener.up.is_set()):
            await asyncio.sleep(0.01)
        ready = {"ready": node.name, "pid": os.getpid(), "listener": node.listener.backend_pid}
        sys.stdout.write(json.dumps(ready) + "\n")
        sys.stdout.flush()

    task = asyncio.create_task(announce())
    try:
        await node.serve()
    finally:
        task.cancel()


if __name__ == "__main__":
    sys.exit(main())
