"""Recorded job output: ``meta["recorded"]`` / ``meta["return"]`` ↔ a Python value.

The wire format is the one Oban Pro writes and Oban Web reads (etf.md §2):
``return`` is ``term_to_binary(value)``, optionally compressed, in standard
base64 with the ``=`` padding removed (``Base.encode64(padding: false)``).
Readers use ``Base.decode64!(text, padding: false)`` and
``binary_to_term(bin, [:safe])``, which accept either compression and either
padding, so both are accepted here too.

Why the writer compresses by default: Oban Web's resolver documents the text
as "a compressed, base64 binary" and Pro is believed to use ``[:compressed]``
(etf.md §2.2, inferred). Erlang only uses tag 80 when the result is not
larger (erts ``erts_term_to_binary_int``; a tie compresses, checked on OTP
25), so compression never costs bytes and ``binary_to_term`` inflates it
transparently, including on Oban Web and oban-py's erlpack reader.

The size limit is measured on the final text, as Pro documents ("after
compression and encoding"), and checked here, before anything reaches the
database, so an oversized value fails in the worker rather than turning
completed work into a retry.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from bridge.errors import DecodeError, RecordedMissing, RecordTooLarge

from .etf import DEFAULT_MINOR_VERSION, decode, encode

#: Oban Pro's default recorded limit, in characters of encoded text (etf.md §2.2)
RECORDED_LIMIT = 32_000
#: largest text accepted on read: oban-py writes up to 64,000,000 characters (etf.md §2.1)
MAX_RECORDED_TEXT = 64_000_000

# RFC 4648 §4 standard alphabet (not URL-safe), optional padding (Base.decode64 padding: false)
_B64 = re.compile(r"[A-Za-z0-9+/]*")


def encode_recorded(
    value: Any,
    *,
    compressed: bool | int = True,
    limit: int | None = RECORDED_LIMIT,
    minor_version: int = DEFAULT_MINOR_VERSION,
    deterministic: bool = True,
) -> str:
    """The ``meta["return"]`` text for ``value``; ``RecordTooLarge`` over ``limit``."""
    data = encode(
        value, compressed=compressed, minor_version=minor_version, deterministic=deterministic
    )
    # Base.encode64(bin, padding: false), as Oban Web's test helper encode_term/1 does
    text = base64.b64encode(data).decode("ascii").rstrip("=")
    if limit is not None and len(text) > limit:
        raise RecordTooLarge(len(text), limit)
    return text


def decode_recorded(text: str, *, max_length: int = MAX_RECORDED_TEXT, **decode_opts: Any) -> Any:
    """The value behind a ``meta["return"]`` text; ``DecodeError`` if it is not one.

    ``decode_opts`` go to ``bridge.wire.etf.decode`` (safe defaults).
    """
    if not isinstance(text, str):
        raise DecodeError(f"recorded text must be a string, not {type(text).__name__}")
    if len(text) > max_length:
        raise DecodeError(f"recorded text of {len(text)} characters is over {max_length}")
    body = text.rstrip("=")
    pads = len(text) - len(body)
    if not _B64.fullmatch(body) or len(body) % 4 == 1 or (pads and len(text) % 4) or pads > 2:
        raise DecodeError("recorded text is not standard base64", offset=0)
    try:
        # re-pad, as Base.decode64(padding: false) accepts both forms
        data = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError(f"recorded text is not standard base64: {exc}", offset=0) from None
    return decode(data, **decode_opts)


def record_meta(meta: Mapping[str, Any] | None, value: Any, **encode_opts: Any) -> dict[str, Any]:
    """``meta`` with the recording merged in, like ack_job.sql's ``meta || jsonb``.

    Other keys survive (oban-py's test_recorded_jobs_store_encoded_value_in_meta).
    """
    merged = dict(meta or {})
    # mirrors oban-py oban/_executor.py: meta={"recorded": True, "return": encoded}
    merged["recorded"] = True
    merged["return"] = encode_recorded(value, **encode_opts)
    return merged


def _meta_of(job_or_meta: Any) -> Any:
    meta = getattr(job_or_meta, "meta", None)
    if meta is not None or not isinstance(job_or_meta, Mapping):
        return meta
    inner = job_or_meta.get("meta")
    if isinstance(inner, Mapping) and "recorded" not in job_or_meta:
        return inner  # a job row given as a mapping
    return job_or_meta


def fetch_recorded(job_or_meta: Any, **decode_opts: Any) -> Any:
    """The recorded value of a job (an object with ``.meta``, a job row, or a meta dict).

    ``RecordedMissing`` mirrors Oban Web's detail_component.ex cases: not
    recorded at all, or recorded but without a ``return`` yet.
    """
    meta = _meta_of(job_or_meta)
    if not isinstance(meta, Mapping) or meta.get("recorded") is not True:
        raise RecordedMissing('job is not recorded (meta has no "recorded": true)')
    text = meta.get("return")
    if text is None:
        raise RecordedMissing("job is recorded but has no return value yet")
    return decode_recorded(text, **decode_opts)
