"""Sending Oban's signals (pause, resume, scale, start, stop) on ``<prefix>.oban_signal``.

The payload is built and validated by ``bridge.wire.notify`` before this op exists, so a
refused signal never touches the database. Like every notification it is delivered when
the transaction commits: inside a caller's transaction, a rollback sends nothing.
"""

from __future__ import annotations

from bridge.ops._types import Op
from bridge.ops.jobs import notify_op


def notify_signal(prefix: str, payload: str) -> Op[None]:
    """Send one encoded signal to every node listening under ``prefix``."""
    # mirrors lib/oban.ex pause_queue/2 … stop_queue/2: Notifier.notify(conf, :signal, data)
    yield from notify_op(prefix, "signal", [payload])
