"""Leadership in ``oban_peers`` with Oban 2.23.1's election SQL, under our own peer name.

One row per peer name per prefix; its holder is the leader. The default name is not
Elixir's (``"Oban"``), so a Python leader never takes an Elixir cluster's leadership (and
never silences its cron); ``peer_name="Oban"`` joins Elixir's election instead.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bridge.names import channel_name
from bridge.ops._types import Op, Statement

LEASE_SECONDS = 30  # mirrors lib/oban/peers/database.ex @default interval (30 s lease)

_DELETE_EXPIRED = (
    'DELETE FROM {prefix}.oban_peers AS o0 WHERE (o0."name" = %s) AND (o0."expires_at" < %s)'
)
_UPSERT = (
    'INSERT INTO {prefix}.oban_peers AS o0 ("expires_at", "name", "node", "started_at") '
    "VALUES (%s, %s, %s, %s) "
    'ON CONFLICT ("name") DO UPDATE SET "expires_at" = %s WHERE (o0."node" = %s) '
    'RETURNING o0."node"'
)


def elect(prefix: str, name: str, node: str, *, now: datetime) -> Op[bool]:
    """One election round (run in one transaction); True when ``node`` leads."""
    # mirrors lib/oban/peers/database.ex (v2.23.1) delete_expired/2 + upsert_peer/2
    yield Statement(_DELETE_EXPIRED, (name, now), prefix=prefix, fetch=False)
    expires = now + timedelta(seconds=LEASE_SECONDS)
    rows = yield Statement(_UPSERT, (expires, name, node, now, expires, node), prefix=prefix)
    return bool(rows)


def resign(prefix: str, name: str, node: str) -> Op[None]:
    """Leave the lease at shutdown and tell the others at once (``{"down": name}``)."""
    # mirrors lib/oban/peers/database.ex terminate/2: delete own row, notify :leader down
    rows = yield Statement(
        'DELETE FROM {prefix}.oban_peers WHERE "name" = %s AND "node" = %s RETURNING "name"',
        (name, node),
        prefix=prefix,
    )
    if rows:
        payload = json.dumps({"down": name}, separators=(",", ":"))
        yield Statement(
            "SELECT pg_notify(%s, %s)", (channel_name(prefix, "leader"), payload), fetch=False
        )


def leaders(prefix: str) -> Op[dict[str, str]]:
    """Every peer name's current leader node (Elixir's row included)."""
    rows = yield Statement('SELECT "name", "node" FROM {prefix}.oban_peers', prefix=prefix)
    return {row["name"]: row["node"] for row in rows}
