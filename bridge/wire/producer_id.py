"""Producer uuids that say "a Python producer, alive while lock N is held".

Elixir's ``attempted_by`` is ``[node, producer_uuid]`` with a random v4 uuid
(``Ecto.UUID.generate/0``); Elixir reads it nowhere. Ours are RFC 9562 version-8 uuids:

    OOOOOOOO-RRRR-8RRR-vRRR-627269646765
    ^ lock objid (31 bits)        ^ the fixed node field, "bridge" in ASCII

* the last group marks the job as claimed by an oban-bridge producer (a v4 uuid never
  has version 8, so no Elixir or Oban Pro producer matches), and
* the first group is the objid of the session-level advisory lock
  ``(PRODUCER_LOCK_CLASS, objid)`` the producer holds while it lives.

A rescuer needs nothing else: an executing job whose uuid matches and whose lock nobody
holds belongs to a dead producer. The two-int lock form lives in its own key space
(``objsubid = 2``), apart from Elixir's bigint advisory keys.
"""

from __future__ import annotations

import re

NODE_FIELD = "627269646765"  # b"bridge".hex()
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-" + NODE_FIELD + "$"
_UUID = re.compile(UUID_PATTERN)
MAX_OBJID = 2**31 - 1  # positive int4, so PostgreSQL's signed and oid views agree


def producer_uuid(objid: int, bits: int) -> str:
    """A producer uuid for lock ``objid``; bits 20–61 of ``bits`` fill the random fields
    (16 + 12 + 14 bits)."""
    if not 1 <= objid <= MAX_OBJID:
        raise ValueError(f"objid must be in 1..{MAX_OBJID}, got {objid}")
    a = (bits >> 46) & 0xFFFF
    b = (bits >> 34) & 0xFFF
    c = 0x8000 | ((bits >> 20) & 0x3FFF)  # RFC 9562 variant 10xx
    return f"{objid:08x}-{a:04x}-8{b:03x}-{c:04x}-{NODE_FIELD}"


def lock_objid(uuid: str) -> int | None:
    """The lock objid a producer uuid names, or None for any other uuid (Elixir's)."""
    if not _UUID.fullmatch(uuid):
        return None
    return int(uuid[:8], 16)


def lock_objid_sql(expr: str) -> str:
    """SQL computing :func:`lock_objid` of a uuid expression, compared as bigint."""
    return f"(('x' || substr({expr}, 1, 8))::bit(32)::bigint)"
