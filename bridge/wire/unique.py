"""Unique-job options, the lookup Elixir's Basic engine runs before inserting, and ``replace``.

OSS Oban has no unique index: inside one transaction it takes an advisory lock,
looks for a matching job with the predicate below and inserts only when none
is found (``lib/oban/engines/basic.ex insert_unique``). The lock key there is
``phash2`` of an Ecto struct holding a closure — not reproducible outside the
BEAM — so Python and Elixir inserts never serialise on the same lock: two
nodes inserting the same unique job at the same instant can both succeed. We
take our own advisory lock (serialising Python inserts among themselves) on a
key outside ``[0, 2**28)`` so we can never block or fake a conflict for an
Elixir insert (oban-wire-spec §2.4 hazard).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bridge.errors import ValidationError
from bridge.names import STATES

#: lib/oban/job.ex unique_states/1 (v2.23.1); ``successful`` is the default
STATE_GROUPS: Mapping[str, tuple[str, ...]] = {
    "all": (
        "suspended",
        "scheduled",
        "available",
        "executing",
        "retryable",
        "completed",
        "discarded",
        "cancelled",
    ),
    "incomplete": ("suspended", "available", "scheduled", "executing", "retryable"),
    "scheduled": ("scheduled",),
    "successful": ("suspended", "available", "scheduled", "executing", "retryable", "completed"),
}

UNIQUE_FIELDS = ("args", "meta", "queue", "worker")  # mirrors lib/oban/job.ex @unique_fields
KEYABLE_FIELDS = ("args", "meta")  # mirrors lib/oban/job.ex @keyable_fields
TIMESTAMPS = ("inserted_at", "scheduled_at")  # mirrors lib/oban/job.ex @unique_timestamps
INFINITY: Literal["infinity"] = "infinity"
#: fields a unique conflict may overwrite (lib/oban/job.ex @replace_options, 2.18.3 to 2.23.1)
REPLACE_FIELDS = (
    "args",
    "max_attempts",
    "meta",
    "priority",
    "queue",
    "scheduled_at",
    "tags",
    "worker",
)


@dataclass(frozen=True)
class Unique:
    """Resolved unique options (``@unique_defaults`` merged with the caller's)."""

    fields: tuple[str, ...] = ("args", "queue", "worker")
    keys: tuple[str, ...] = ()
    period: int | Literal["infinity"] = 60
    states: tuple[str, ...] = STATE_GROUPS["successful"]
    timestamp: str = "inserted_at"


UniqueOption = bool | Unique | Mapping[str, Any] | None


def cast_unique(option: UniqueOption) -> Unique | None:
    """Validate ``unique=`` like ``Job.validate_unique/1`` and merge Oban's defaults."""
    # mirrors lib/oban/job.ex put_unique/2 and validate_unique/1
    if option is None or option is False:
        return None
    if option is True:
        return Unique(period=INFINITY)
    if isinstance(option, Unique):
        return option
    if not isinstance(option, Mapping):
        raise ValidationError("unique", f"invalid unique options {option!r}")
    if not option:
        raise ValidationError("unique", "an empty mapping isn't allowed, use True")
    unknown = set(option) - {"fields", "keys", "period", "states", "timestamp"}
    if unknown:
        raise ValidationError("unique", f"unknown option {sorted(unknown)[0]!r}")
    fields = _fields(option.get("fields", Unique.fields))
    keys = _keys(option.get("keys", ()), fields)
    period = _period(option.get("period", 60))
    states = _states(option.get("states", "successful"))
    timestamp = option.get("timestamp", "inserted_at")
    if timestamp not in TIMESTAMPS:
        raise ValidationError("unique", f"expected timestamp to be one of {TIMESTAMPS}")
    return Unique(fields=fields, keys=keys, period=period, states=states, timestamp=timestamp)


def _fields(value: Any) -> tuple[str, ...]:
    fields = tuple(value) if isinstance(value, (list, tuple)) else ()
    if not fields or not all(f in UNIQUE_FIELDS for f in fields):
        raise ValidationError("unique", f"expected fields {value!r} to overlap {UNIQUE_FIELDS}")
    return fields


def _keys(value: Any, fields: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(k, str) for k in value):
        raise ValidationError("unique", "expected keys to be a list of strings")
    if value and not any(f in fields for f in KEYABLE_FIELDS):
        raise ValidationError("unique", "using keys expects fields to contain args or meta")
    return tuple(value)


def _period(value: Any) -> int | Literal["infinity"]:
    if value == INFINITY or value == float("inf"):
        return INFINITY
    from bridge.wire.job import to_seconds  # local: job.py imports this module

    seconds = to_seconds(value, "unique")
    if seconds <= 0:
        raise ValidationError("unique", "expected period to be a positive integer")
    return seconds


def _states(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        if value not in STATE_GROUPS:
            raise ValidationError(
                "unique", f"expected states {value!r} to be one of {tuple(STATE_GROUPS)}"
            )
        return STATE_GROUPS[value]
    states = tuple(str(s) for s in value) if isinstance(value, (list, tuple)) else ()
    if not states or not all(s in STATES for s in states):
        raise ValidationError("unique", f"expected states {value!r} to overlap {STATES}")
    return states


def lookup_predicate(
    unique: Unique, args: Mapping[str, Any], meta: Mapping[str, Any], queue: str, worker: str
) -> tuple[list[str], list[Any]]:
    """SQL conditions and parameters for the existing-job lookup, in Oban's order.

    Returns ``(conditions, params)``; conditions use ``%s`` placeholders and are
    joined with AND by the caller.
    """
    # mirrors lib/oban/engines/basic.ex unique_query/1 + unique_field/2: fields reduced in
    # order, each wrapping the previous, so the last field is the outermost condition
    conditions: list[str] = []
    params: list[Any] = []
    maps: dict[str, Mapping[str, Any]] = {"args": args, "meta": meta}
    scalars = {"queue": queue, "worker": worker}
    for name in reversed(unique.fields):
        column = f'o0."{name}"'
        if name in maps:
            value = maps[name]
            if unique.keys:
                value = {k: v for k, v in value.items() if k in unique.keys}
            encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            if not value:
                conditions.append(f"{column} <@ %s::jsonb")
                params.append(encoded)
            elif not unique.keys:
                conditions.append(f"({column} @> %s::jsonb AND {column} <@ %s::jsonb)")
                params.extend([encoded, encoded])
            else:
                conditions.append(f"{column} @> %s::jsonb")
                params.append(encoded)
        else:
            conditions.append(f"{column} = %s")
            params.append(scalars[name])
    return conditions, params


def states_for_schema(states: Sequence[str], schema_version: int) -> list[str]:
    """Drop ``suspended`` on schemas older than V14, where the label does not exist."""
    # mirrors lib/oban/migrations/postgres/v14.ex: 'suspended' appears only at V14
    if schema_version >= 14:
        return list(states)
    return [s for s in states if s != "suspended"]


def lock_key(prefix: str, unique: Unique, conditions: Sequence[Any]) -> int:
    """A negative signed 64-bit advisory lock key: never inside Elixir's ``[0, 2**28)``."""
    material = json.dumps([prefix, unique.keys, unique.states, list(conditions)], default=str)
    digest = hashlib.blake2b(material.encode(), digest_size=8).digest()
    return -(int.from_bytes(digest, "big") >> 1) - 1


ReplaceOption = Sequence[str] | Mapping[str, Sequence[str]] | None
#: resolved ``replace``: the fields to overwrite for a conflicting job in each state
Replace = Mapping[str, tuple[str, ...]]


def cast_replace(option: ReplaceOption) -> Replace | None:
    """Validate ``replace=`` like ``Job.validate_replace/1``: a list of fields (every state)
    or a mapping of state to fields, e.g. ``{"scheduled": ["scheduled_at"]}``."""
    if option is None:
        return None
    if isinstance(option, Mapping):
        # mirrors lib/oban/job.ex put_replace/3: a keyword list is kept per state
        pairs = [(_replace_state(state), _replace_fields(option[state])) for state in option]
        return dict(pairs)
    # mirrors lib/oban/job.ex put_replace/3: a plain list applies to every state (states/0)
    return dict.fromkeys(STATES, _replace_fields(option))


def _replace_state(state: Any) -> str:
    if not isinstance(state, str) or str(state) not in STATES:
        # mirrors lib/oban/job.ex validate_replace/1 (suspended: a state from 2.19 on)
        raise ValidationError("replace", f"has an invalid state: {state!r}; states are {STATES}")
    return str(state)


def _replace_fields(fields: Any) -> tuple[str, ...]:
    if isinstance(fields, (str, bytes)) or not isinstance(fields, (list, tuple)):
        raise ValidationError(
            "replace",
            f"expected a list of fields or a mapping of state to a list of fields, got {fields!r}",
        )
    for name in fields:
        if name not in REPLACE_FIELDS:
            # mirrors lib/oban/job.ex validate_replace/1 (@replace_options)
            raise ValidationError(
                "replace", f"has an invalid field: {name!r}; fields are {REPLACE_FIELDS}"
            )
    return tuple(str(name) for name in fields)
