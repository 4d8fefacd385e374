"""The app clock, as Elixir uses its own: UTC, stored naive in ``timestamp`` columns."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
