"""The app clock, as Elixir uses its own: UTC, stored naive in ``timestamp`` columns."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


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
