"""Oban's LISTEN/NOTIFY wire: channel names and payload encoding, both directions.

Elixir ≥ 2.21 sends plain JSON up to 512 bytes and ``"Z:" + base64(gzip(json))``
above; ≤ 2.20 always sends ``base64(gzip(json))`` (starts ``H4sI``). Every
version accepts plain JSON, only ≥ 2.21 accepts ``Z:`` (it crashes 2.18.3's
notifier), so we *send* plain JSON and *read* all three forms
(oban-wire-spec §3.2). A malformed payload is a ``DecodeError``, never a crash.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

from bridge import names
from bridge.errors import DecodeError, NotifierError
from bridge.names import MAX_IDENTIFIER_BYTES

#: PostgreSQL rejects a NOTIFY payload of 8000 bytes or more (async.c NOTIFY_PAYLOAD_MAX_LENGTH)
MAX_PAYLOAD_BYTES = 7999
#: a decompressed payload larger than this is refused (guards against gzip bombs)
MAX_DECODED_BYTES = 1 << 20


def channel_name(prefix: str, channel: str) -> str:
    """``"<prefix>.oban_<channel>"``, as ``lib/oban/notifiers/postgres.ex`` builds it."""
    name = names.channel_name(prefix, channel)
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise NotifierError(
            f"channel {name!r} is longer than PostgreSQL's 63-byte identifier limit"
        )
    return name


def encode_payload(message: Mapping[str, Any]) -> str:
    """Plain compact JSON with sorted keys, readable by every Oban version."""
    # mirrors lib/oban/notifier.ex encode/1 for payloads ≤ 512 bytes (Jason sorts small maps)
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        raise NotifierError(f"notification payload is {len(text.encode())} bytes, over 7999")
    return text


def decode_payload(payload: str) -> dict[str, Any]:
    """Decode any of Oban's three payload forms into a JSON object."""
    # mirrors lib/oban/notifier.ex decode/1 (v2.23.1): "Z:" gzip, legacy "H4sI" gzip, plain
    if payload.startswith("Z:"):
        text = _gunzip_b64(payload[2:])
    elif payload.startswith("H4sI"):
        text = _gunzip_b64(payload)
    else:
        text = payload
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise DecodeError(f"notification payload is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise DecodeError(f"notification payload is not a JSON object: {type(value).__name__}")
    return value


def _gunzip_b64(text: str) -> str:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError(f"notification payload is not valid base64: {exc}") from None
    try:
        inflater = zlib.decompressobj(wbits=31)
        data = inflater.decompress(raw, MAX_DECODED_BYTES + 1)
    except zlib.error as exc:
        raise DecodeError(f"notification payload is not valid gzip: {exc}") from None
    if len(data) > MAX_DECODED_BYTES or not inflater.eof:
        raise DecodeError("notification payload is truncated or inflates past 1 MiB")
    try:
        return data.decode()
    except UnicodeDecodeError as exc:
        raise DecodeError(f"notification payload is not UTF-8: {exc}") from None


def encode_legacy(message: Mapping[str, Any]) -> str:
    """``base64(gzip(json))`` as Oban ≤ 2.20 sends it (for tests and old-cluster tooling)."""
    # mirrors lib/oban/notifier.ex encode/1 (v2.18.3): :zlib.gzip (level 6, mtime 0), base64
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return base64.b64encode(_gzip(text.encode())).decode()


def _gzip(data: bytes) -> bytes:
    """An RFC 1952 member exactly as zlib's gzip wrapper writes it (as Erlang's :zlib.gzip).

    Built by hand because Python's own ``gzip`` header differs across versions (the OS
    byte is 255 before 3.11, 3 after).
    """
    deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflate.compress(data) + deflate.flush()
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"  # no flags, mtime 0, XFL 0, OS Unix
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + body + trailer


def insert_messages(queues: list[str]) -> list[str]:
    """One ``{"queue": q}`` per distinct queue, first-seen order."""
    # mirrors lib/oban/engine.ex notify_trigger/2: uniq queues of available jobs
    seen: dict[str, None] = dict.fromkeys(queues)
    return [encode_payload({"queue": q}) for q in seen]


def pkill_message(job_id: int) -> str:
    """The signal Oban sends when it cancels an executing job (no ident: all nodes)."""
    # mirrors lib/oban.ex cancel_all_jobs/2: %{action: :pkill, job_id: id} on :signal
    return encode_payload({"action": "pkill", "job_id": job_id})
