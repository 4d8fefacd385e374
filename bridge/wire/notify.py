"""Oban's LISTEN/NOTIFY wire: channel names and payload encoding, both directions.

Elixir ≥ 2.21 sends plain JSON up to 512 bytes and ``"Z:" + base64(gzip(json))``
above; ≤ 2.20 always sends ``base64(gzip(json))`` (starts ``H4sI``). Every
version accepts plain JSON, only ≥ 2.21 accepts ``Z:`` (it crashes 2.18.3's
notifier), so we *send* plain JSON unless told the whole cluster runs ≥ 2.21
(``compress``), and *read* all three forms (oban-wire-spec §3.2). A malformed
payload is a ``DecodeError``, never a crash.

Signals (``pause`` … ``stop``, ``pkill``) are built here and validated before any
I/O: a key Elixir does not know crashes its producer (``String.to_existing_atom``),
a wrong type poisons it, so only the keys and types Oban itself sends go out.
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
from bridge.errors import DecodeError, EncodeError, NotifierError, PayloadTooLarge, ValidationError
from bridge.names import MAX_IDENTIFIER_BYTES
from bridge.wire.job import MAX_NAME_LENGTH

#: PostgreSQL rejects a NOTIFY payload of 8000 bytes or more (async.c NOTIFY_PAYLOAD_MAX_LENGTH)
MAX_PAYLOAD_BYTES = 7999
#: a decompressed payload larger than this is refused (guards against gzip bombs)
MAX_DECODED_BYTES = 1 << 20
#: Oban ≥ 2.21 gzips JSON longer than this (lib/oban/notifier.ex @compress_threshold)
COMPRESS_THRESHOLD = 512


def channel_name(prefix: str, channel: str) -> str:
    """``"<prefix>.oban_<channel>"``, as ``lib/oban/notifiers/postgres.ex`` builds it."""
    name = names.channel_name(prefix, channel)
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise NotifierError(
            f"channel {name!r} is longer than PostgreSQL's 63-byte identifier limit"
        )
    return name


def encode_payload(message: Mapping[str, Any], *, compress: bool = False) -> str:
    """Plain compact JSON with sorted keys, readable by every Oban version.

    ``compress`` is for clusters where every Elixir node runs Oban ≥ 2.21: a ``Z:``
    payload kills an older node's notifier for good (oban-wire-spec §3.5).
    """
    # mirrors lib/oban/notifier.ex encode/1 for payloads ≤ 512 bytes (Jason sorts small maps)
    try:
        text = json.dumps(
            message, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
        )
        data = text.encode()
    except (TypeError, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise EncodeError(f"notification payload is not JSON-encodable: {exc}") from None
    if compress and len(data) > COMPRESS_THRESHOLD:
        # mirrors lib/oban/notifier.ex encode/1 (v2.23.1): "Z:" <> Base.encode64(:zlib.gzip(json))
        text = "Z:" + base64.b64encode(_gzip(data)).decode()
        data = text.encode()
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(len(data), MAX_PAYLOAD_BYTES)
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


# -- signals --------------------------------------------------------------------------------

#: the queue that stands for every queue in a pause or resume (lib/oban.ex pause_all_queues/2)
ALL_QUEUES = "*"
#: the default instance's name as ``inspect/1`` prints it (lib/oban/config.ex new/1 name: Oban)
DEFAULT_INSTANCE = "Oban"
#: a limit must fit the bigint LIMIT of Oban's fetch (lib/oban/engines/basic.ex limit(^demand))
MAX_LIMIT = 2**63 - 1


def signal_ident(node: str | None = None, instance: str = DEFAULT_INSTANCE) -> str:
    """Which nodes obey a signal: ``"any"``, or the one node ``<instance>.<node>``.

    A mistyped scope is not an error on the wire, just a signal no node obeys, hence
    the checks (``instance`` too, even when unused).
    """
    name = _check_text(instance, "instance")
    if name.startswith("Elixir."):
        raise ValidationError(
            "instance", f"is written as inspect/1 prints it: {name[7:]!r}, not {name!r}"
        )
    if node is None:
        return "any"  # mirrors lib/oban.ex scope_signal/2: :any without :local_only or :node
    # mirrors lib/oban/config.ex to_ident/1: inspect(name) <> "." <> to_string(node)
    return f"{name}.{_check_text(node, 'node')}"


def pause_message(
    queue: str, *, node: str | None = None, instance: str = DEFAULT_INSTANCE, compress: bool = False
) -> str:
    """Stop fetching new jobs (running ones finish); ``ALL_QUEUES`` pauses every queue."""
    # mirrors lib/oban.ex pause_queue/2: %{action: :pause, queue: queue, ident: scope}
    return _signal("pause", _check_queue(queue, every=True), {}, node, instance, compress)


def resume_message(
    queue: str, *, node: str | None = None, instance: str = DEFAULT_INSTANCE, compress: bool = False
) -> str:
    """Fetch again after a pause; ``ALL_QUEUES`` resumes every queue."""
    # mirrors lib/oban.ex resume_queue/2: %{action: :resume, queue: queue, ident: scope}
    return _signal("resume", _check_queue(queue, every=True), {}, node, instance, compress)


def scale_message(
    queue: str,
    limit: int,
    *,
    node: str | None = None,
    instance: str = DEFAULT_INSTANCE,
    compress: bool = False,
) -> str:
    """Change a running queue's concurrency limit."""
    # mirrors lib/oban.ex scale_queue/2: opts + action + ident; :limit is what the engine requires
    # never "node" (2.23.1 adds it): lib/oban/queue/producer.ex@v2.18.3 would put it in its meta
    extra = {"limit": _check_limit(limit)}
    return _signal("scale", _check_queue(queue, every=False), extra, node, instance, compress)


def start_message(
    queue: str,
    limit: int,
    *,
    paused: bool = False,
    node: str | None = None,
    instance: str = DEFAULT_INSTANCE,
    compress: bool = False,
) -> str:
    """Start a queue on nodes that do not run it yet (``paused``: started paused)."""
    # mirrors lib/oban.ex start_queue/2 (v2.23.1): opts + action + ident, :node dropped
    extra: dict[str, Any] = {"limit": _check_limit(limit)}
    if not isinstance(paused, bool):  # mirrors lib/oban/engines/basic.ex validate_meta_opt/1
        raise ValidationError("paused", f"must be true or false, got {paused!r}")
    if paused:
        extra["paused"] = True  # mirrors lib/oban.ex start_queue/2: only the options given go out
    return _signal("start", _check_queue(queue, every=False), extra, node, instance, compress)


def stop_message(
    queue: str, *, node: str | None = None, instance: str = DEFAULT_INSTANCE, compress: bool = False
) -> str:
    """Shut a queue down (running jobs get the grace period)."""
    # mirrors lib/oban.ex stop_queue/2: %{action: :stop, queue: queue, ident: scope}
    return _signal("stop", _check_queue(queue, every=False), {}, node, instance, compress)


def _signal(
    action: str,
    queue: str,
    extra: dict[str, Any],
    node: str | None,
    instance: str,
    compress: bool,
) -> str:
    # never "local_only": a client has no local Oban node (lib/oban.ex scope_signal/2)
    message = {"action": action, "ident": signal_ident(node, instance), "queue": queue, **extra}
    return encode_payload(message, compress=compress)


def _check_text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, got {type(value).__name__}")
    if not value:
        raise ValidationError(field, "can't be blank")
    if "\x00" in value:
        raise ValidationError(field, "contains a NUL character (U+0000), which NOTIFY cannot carry")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValidationError(field, "is not valid Unicode (a lone surrogate)") from None
    return value


def _check_queue(value: Any, *, every: bool) -> str:
    queue = _check_text(value, "queue")  # mirrors lib/oban.ex validate_queue_opts!/1: non-empty
    # lib/oban/queue/producer.ex handle_info/2 reads "*" as every queue only for pause and resume
    if queue == ALL_QUEUES and not every:
        raise ValidationError("queue", '"*" stands for every queue only in pause and resume')
    if len(queue) > MAX_NAME_LENGTH:
        # a longer queue can hold no job (lib/oban/migrations/postgres/v02.ex queue_length CHECK)
        raise ValidationError(
            "queue", f"should be at most {MAX_NAME_LENGTH} character(s), got {len(queue)}"
        )
    return queue


def _check_limit(value: Any) -> int:
    # mirrors lib/oban/engines/basic.ex validate_meta_opt/1: an integer greater than 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("limit", f"must be an integer, got {value!r}")
    if not 1 <= value <= MAX_LIMIT:
        raise ValidationError("limit", f"must be between 1 and {MAX_LIMIT}, got {value}")
    return value
