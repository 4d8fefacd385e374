"""The app clock, as Elixir uses its own: UTC, stored naive in ``timestamp`` columns."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import Any

_cached: list[Any] = [-1, None]


def utc_now() -> datetime:
    """UTC now, read at most once per millisecond (the hot path asks per job)."""
    tick = time.monotonic_ns() // 1_000_000
    if tick != _cached[0]:
        _cached[0] = tick
        _cached[1] = datetime.now(timezone.utc).replace(tzinfo=None)
    now: datetime = _cached[1]
    return now


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until ``event`` is set or ``timeout`` passes; True when it was set.

    Not ``asyncio.wait_for(event.wait(), …)``: on Python 3.11 a cancellation arriving
    while wait_for cleans up can be swallowed, and the task then never ends.
    """
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({waiter}, timeout=timeout)
    finally:
        waiter.cancel()
    return event.is_set()
