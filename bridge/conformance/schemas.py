"""JSON Schemas (Draft 2020-12) of Oban's wire messages, and validation against them.

The schemas live in ``schema/messages/*.json`` (shipped in the wheel as ``bridge._schema``,
found through :func:`bridge._resources.schema_dir`); ``schema/messages/index.json`` lists
them. They describe what Elixir Oban writes and accepts: ``job_row`` (a ``row_to_json``
of ``oban_jobs``), ``job_insert``, ``job_error``, ``recorded_meta`` and one schema per
notification (``notify_insert``, ``notify_signal_<action>``, ``notify_leader``,
``notify_sonar``, ``notify_gossip``). See ``schema/messages/README.md``.

One deliberate difference from a generic Draft 2020-12 validator: ``"integer"`` means a
JSON number written without fraction or exponent. The standard also accepts ``5.0``, but
Elixir's Jason decodes that to a float, and ``{"limit": 5.0}`` poisons a producer just as
``"5"`` does — so both are rejected here.

This module needs ``jsonschema``; it lives outside ``bridge.wire`` so that the pure core
stays stdlib-only.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

# jsonschema ships no type information (no py.typed); its objects are Any here
from jsonschema import Draft202012Validator, validators  # type: ignore[import-untyped]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from bridge._resources import schema_dir
from bridge.errors import SchemaViolation
from bridge.names import OBAN_CHANNELS

#: the ``$id`` prefix shared by every schema in schema/messages/
BASE_URI = "https://oban-bridge.dev/schema/messages/"
#: Oban's notification channels that have a schema, as ``"<prefix>.oban_<channel>"`` names them
NOTIFICATION_CHANNELS = tuple(c for c in OBAN_CHANNELS if c != "stager")
SIGNAL_ACTIONS = ("pause", "resume", "scale", "start", "stop", "pkill")


def _strict_integer(_checker: Any, instance: Any) -> bool:
    # Jason decodes 5 to an integer and 5.0 / 5e0 to a float: only the former is an integer
    return isinstance(instance, int) and not isinstance(instance, bool)


#: Draft 2020-12 with the strict ``integer`` type described in the module docstring
StrictDraft202012Validator: Any = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer),
)


def messages_dir() -> Path:
    """The directory holding the message schemas and ``index.json``."""
    return schema_dir() / "messages"


@cache
def index() -> tuple[dict[str, Any], ...]:
    """The entries of ``index.json``: ``name``, ``file``, ``description`` and, for
    notifications, ``channel`` (and ``action`` for one signal)."""
    text = (messages_dir() / "index.json").read_text(encoding="utf-8")
    entries: list[dict[str, Any]] = json.loads(text)
    return tuple(entries)


def names() -> tuple[str, ...]:
    """Every schema name, in index order (``defs`` holds shared definitions only)."""
    return tuple(entry["name"] for entry in index())


def _file(name: str) -> Path:
    for entry in index():
        if entry["name"] == name:
            return messages_dir() / str(entry["file"])
    raise KeyError(f"no JSON Schema named {name!r}; known: {', '.join(names())}")


@cache
def _raw(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(_file(name).read_text(encoding="utf-8"))
    return schema


def load(name: str) -> dict[str, Any]:
    """The schema ``schema/messages/<name>.json`` as a fresh dict (``KeyError`` if unknown)."""
    return copy.deepcopy(_raw(name))


@cache
def _undeclared(name: str) -> dict[str, Any]:
    # The schema without its "$schema" key. jsonschema picks the validator class of a
    # subschema it reaches through $ref from that key (validator_for), which would swap our
    # strict-integer class for the stock one; without it the class in use is kept. Every
    # file declares 2020-12 (checked by the tests), so nothing else changes.
    schema = dict(_raw(name))
    schema.pop("$schema", None)
    return schema


@cache
def registry() -> Registry[Any]:
    """A ``referencing.Registry`` holding every sibling schema under its ``$id``."""
    resources = [(_raw(n)["$id"], DRAFT202012.create_resource(_undeclared(n))) for n in names()]
    return Registry().with_resources(resources).crawl()


@cache
def validator(name: str) -> Any:
    """A cached Draft 2020-12 validator for ``name`` whose ``$ref``s resolve to the siblings."""
    return StrictDraft202012Validator(_undeclared(name), registry=registry())


def errors(name: str, value: Any) -> list[tuple[str, str]]:
    """Every violation of schema ``name`` by ``value`` as ``(json_path, message)`` pairs."""
    found = sorted(validator(name).iter_errors(value), key=lambda e: list(e.absolute_path))
    return [_describe(error) for error in found]


def _describe(error: Any) -> tuple[str, str]:
    if error.validator == "not" and error.validator_value in ({}, True):
        return str(error.json_path), "must not be present"
    message = str(error.message)
    if error.context:  # oneOf/anyOf: say why the branch that came closest failed
        closest = "; ".join(f"{e.json_path}: {e.message}" for e in _closest_branch(error))
        message = f"{message} (closest alternative: {closest})"
    return str(error.json_path), message


def _closest_branch(error: Any) -> list[Any]:
    """The sub-errors of the oneOf/anyOf branch that failed least: one whose ``type`` matched
    the value, with the fewest errors (jsonschema's ``best_match`` tends to report a
    nullable column's "is not of type 'null'" instead)."""
    branches: dict[Any, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)

    def type_mismatch(subs: list[Any]) -> bool:
        return any(e.validator == "type" and not e.path for e in subs)

    fitting = [subs for subs in branches.values() if not type_mismatch(subs)]
    if not fitting:  # no branch accepts the value's type: list every branch's complaint
        return list(error.context)
    return min(fitting, key=len)


def is_valid(name: str, value: Any) -> bool:
    """Whether ``value`` satisfies schema ``name``."""
    return bool(validator(name).is_valid(value))


def validate(name: str, value: Any) -> None:
    """Raise :class:`~bridge.errors.SchemaViolation` unless ``value`` satisfies ``name``."""
    found = errors(name, value)
    if found:
        raise SchemaViolation(name, found)


def channel_suffix(channel: str) -> str:
    """``"public.oban_signal"`` → ``"signal"``; legacy ``"oban_insert"`` → ``"insert"``;
    a bare ``"signal"`` is returned as is."""
    _, sep, tail = channel.rpartition(".oban_")
    if sep:
        return tail
    return channel.removeprefix("oban_")


def notification_schema(channel: str, payload: Any) -> str:
    """The schema name for a decoded ``payload`` received on ``channel``.

    ``channel`` may be the full ``"<prefix>.oban_<name>"``, the legacy ``"oban_<name>"`` or
    just ``"<name>"``. Signals are picked by ``action``; a missing or unknown action gets
    ``notify_signal``, which then reports it. A channel without a schema (``stager``, or
    oban_met's ``metrics``/``handoff``/``cronitor``) raises ``SchemaViolation``.
    """
    short = channel_suffix(channel)
    if short not in NOTIFICATION_CHANNELS:
        raise SchemaViolation(
            "notification",
            [("$channel", f"no schema for channel {channel!r}; known: {NOTIFICATION_CHANNELS}")],
        )
    if short != "signal":
        return f"notify_{short}"
    action = payload.get("action") if isinstance(payload, Mapping) else None
    if isinstance(action, str) and action in SIGNAL_ACTIONS:
        return f"notify_signal_{action}"
    return "notify_signal"


def validate_notification(channel: str, payload: Any) -> str:
    """Validate a decoded notification; return the schema name it was checked against."""
    name = notification_schema(channel, payload)
    validate(name, payload)
    return name
