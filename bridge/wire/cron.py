"""Cron expressions and crontab entries, as Oban's Cron plugin parses and inserts them.

Pure: the clock is a parameter (``matches(expr, when)``), and so is the timezone (the
caller converts its UTC minute with a ``tzinfo`` it loaded). The grammar and the error
messages are Oban 2.23.1's ``lib/oban/cron/expression.ex``; tests compare them with the
live module's output (tests/fixtures/cron).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from bridge.errors import ValidationError
from bridge.wire.job import NewJob, new_job

# mirrors lib/oban/cron/expression.ex parse/1 (v2.18.3 and v2.23.1): the nicknames
NICKNAMES: Mapping[str, str] = {
    "@annually": "0 0 1 1 *",
    "@yearly": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@midnight": "0 0 * * *",
    "@daily": "0 0 * * *",
    "@hourly": "0 * * * *",
}
REBOOT = "@reboot"
# mirrors expression.ex @dow_map / @mon_map: upper-case names, replaced as substrings
DOW_NAMES = {"SUN": "0", "MON": "1", "TUE": "2", "WED": "3", "THU": "4", "FRI": "5", "SAT": "6"}
MON_NAMES = {
    name: str(number)
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
# mirrors expression.ex @max_days_per_month (February may have 29)
MAX_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
DEFAULT_TIMEZONE = "Etc/UTC"  # mirrors lib/oban/plugins/cron.ex defstruct timezone

_WS = re.compile(r"[ \t\n\x0b\x0c\r]+")  # PCRE's \s without the unicode flag
_COMMA = re.compile(r"[ \t\n\x0b\x0c\r]*,[ \t\n\x0b\x0c\r]*")
_LITERAL = re.compile(r"[0-9]+")
_STEP = re.compile(r"\*/[1-9][0-9]?")
_RANGE_STEP = re.compile(r"[0-9]+(-[0-9]+)?/[1-9][0-9]?")
_RANGE = re.compile(r"[0-9]+-[0-9]+")


@dataclass(frozen=True)
class Expression:
    """A parsed expression: the allowed values of each field (``reboot``: ``@reboot``)."""

    input: str
    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()
    reboot: bool = False


class _Invalid(Exception):
    pass


def parse(text: str) -> Expression:
    """Parse like ``Oban.Cron.Expression.parse/1``; ``ValidationError`` (field ``cron``)."""
    if not isinstance(text, str):
        raise ValidationError("cron", f"expected an expression string, got {text!r}")
    if text == REBOOT:
        return Expression(text, reboot=True)
    try:
        return _parse_fields(text, NICKNAMES.get(text, text))
    except _Invalid as exc:
        raise ValidationError("cron", str(exc)) from None


def _parse_fields(original: str, text: str) -> Expression:
    parts = _split(text)
    if len(parts) != 5:
        raise _Invalid(f"incorrect number of fields in expression: {text}")
    mip, hrp, dap, mop, wdp = parts
    # mirrors expression.ex parse/1: days, months, their alignment, then the rest
    days = _field(dap, 1, 31)
    months = _field(_names(mop, MON_NAMES), 1, 12)
    if dap != "*" and mop != "*" and not any(d <= MAX_DAYS[m] for m in months for d in days):
        raise _Invalid(f'no day in "{dap}" can occur in months "{mop}"')
    minutes, hours = _field(mip, 0, 59), _field(hrp, 0, 23)
    weekdays = _field(_names(wdp, DOW_NAMES), 0, 6)
    return Expression(original, minutes, hours, days, months, weekdays)


def _split(text: str) -> list[str]:
    # mirrors String.split(input, ~r/\s+/, trim: true, parts: 5): empty pieces do not
    # count, and the fifth piece is the rest of the string, spaces and all
    parts: list[str] = []
    pos = 0
    for match in _WS.finditer(text):
        if len(parts) == 4:
            break
        if match.start() > pos:
            parts.append(text[pos : match.start()])
        pos = match.end()
    if pos < len(text):
        parts.append(text[pos:])
    return parts


def _names(text: str, names: Mapping[str, str]) -> str:
    for name in sorted(names):  # mirrors expression.ex trans_field/2 (a small map's order)
        text = text.replace(name, names[name])
    return text


def _field(text: str, low: int, high: int) -> frozenset[int]:
    # mirrors expression.ex parse_field/2: parts split on commas, then a range check
    values: set[int] = set()
    for part in _COMMA.split(text):
        values.update(_part(part, low, high))
    if not all(low <= v <= high for v in values):
        raise _Invalid(f"expression field {text} is out of range: {low}..{high}")
    return frozenset(values)


def _part(part: str, low: int, high: int) -> Sequence[int]:
    # mirrors expression.ex parse_part/2
    if part == "*":
        return range(low, high + 1)
    if _LITERAL.fullmatch(part):
        return [int(part)]
    if _STEP.fullmatch(part):
        return range(low, high + 1, int(part[2:]))
    if _RANGE_STEP.fullmatch(part):
        bounds, step = part.split("/")
        return _range(bounds, low, high)[:: int(step)]
    if _RANGE.fullmatch(part):
        return _range(part, low, high)
    raise _Invalid(f"unrecognized cron expression: {part}")


def _range(part: str, low: int, high: int) -> range:
    # mirrors expression.ex parse_range/2 (v2.23.1's messages)
    first, _, last = part.partition("-")
    rmin, rmax = int(first), int(last) if last else high
    if rmin > rmax:
        raise _Invalid(f"min ({rmin}) of range must be less than or equal to the max ({rmax})")
    if rmin < low or rmax > high:
        raise _Invalid(f"expression field {part} is out of range: {low}..{high}")
    return range(rmin, rmax + 1)


def matches(expr: Expression, when: datetime) -> bool:
    """Whether ``when`` (already in the entry's timezone) falls in a minute ``expr`` names."""
    if expr.reboot:
        return True  # mirrors expression.ex now?/2: @reboot is always due
    # mirrors expression.ex now?/2: every field must match (days AND weekdays, not OR)
    return (
        when.month in expr.months
        and (when.isoweekday() % 7) in expr.weekdays
        and when.day in expr.days
        and when.hour in expr.hours
        and when.minute in expr.minutes
    )


def minute_of(now: datetime) -> datetime:
    """The minute ``now`` falls in (seconds dropped), as cron evaluates it."""
    return now.replace(second=0, microsecond=0)


def seconds_to_next_minute(now: datetime) -> float:
    """Seconds from ``now`` to the next minute (lib/oban/cron.ex interval_to_next_minute)."""
    return (minute_of(now) + timedelta(minutes=1) - now).total_seconds()


def local_minute(minute: datetime, zone: tzinfo) -> datetime:
    """A naive UTC minute as wall-clock time in ``zone`` (Oban: ``DateTime.now(timezone)``)."""
    return minute.replace(tzinfo=timezone.utc).astimezone(zone)


#: the Job.new options a crontab entry may carry, plus the entry's own ``timezone``
ENTRY_OPTIONS = ("args", "queue", "priority", "max_attempts", "tags", "meta", "unique", "timezone")


@dataclass(frozen=True)
class Entry:
    """One crontab line: ``(expr, worker)`` or ``(expr, worker, {"args": …, "queue": …})``."""

    expr: Expression
    worker: str
    args: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = DEFAULT_TIMEZONE

    @property
    def meta(self) -> dict[str, Any]:
        # mirrors lib/oban/plugins/cron.ex build_changeset/4 (v2.23.1): cron, cron_expr,
        # cron_tz (cron_name is an Erlang phash2, not reproducible here; spec §6)
        return {"cron": True, "cron_expr": self.expr.input, "cron_tz": self.timezone}


def cast_entry(entry: Any, timezone_name: str = DEFAULT_TIMEZONE) -> Entry:
    """Validate a crontab entry; errors are ``ValidationError`` naming the entry."""
    if isinstance(entry, Entry):
        return entry
    label = f"crontab entry {entry!r}"
    if not isinstance(entry, (tuple, list)) or len(entry) not in (2, 3):
        raise ValidationError("crontab", f"{label}: expected (expr, worker[, options])")
    expr, worker = entry[0], entry[1]
    options = dict(entry[2]) if len(entry) == 3 and entry[2] is not None else {}
    if not isinstance(worker, str) or not worker:
        raise ValidationError("crontab", f"{label}: the worker must be a name string")
    unknown = sorted(set(options) - set(ENTRY_OPTIONS))
    if unknown:
        raise ValidationError("crontab", f"{label}: unknown options {unknown}")
    args = options.pop("args", None) or {}
    tz = options.pop("timezone", timezone_name)
    try:
        parsed = parse(expr)
    except ValidationError as exc:
        raise ValidationError("crontab", f"{label}: {exc.message}") from None
    try:
        new_job(worker, args, **options)  # mirrors cron.ex validate_crontab: a valid changeset
    except ValidationError as exc:
        raise ValidationError("crontab", f"{label}: {exc}") from None
    if not isinstance(tz, str) or not tz:
        raise ValidationError("crontab", f"{label}: timezone must be a name, got {tz!r}")
    return Entry(parsed, worker, args, options, tz)


def entry_job(entry: Entry, defaults: Mapping[str, Any]) -> NewJob:
    """The job an entry inserts: the worker's options, the entry's over them, cron's meta."""
    # mirrors lib/oban/plugins/cron.ex build_changeset: Worker.merge_opts (unique merged
    # key by key), then Map.merge(meta, cron_meta)
    merged: dict[str, Any] = {**defaults, **entry.options}
    base, own = defaults.get("unique"), entry.options.get("unique")
    if isinstance(base, Mapping) and isinstance(own, Mapping):
        merged["unique"] = {**base, **own}
    merged["meta"] = {**(merged.get("meta") or {}), **entry.meta}
    return new_job(entry.worker, dict(entry.args), **merged)


def lock_key(prefix: str, job: NewJob) -> int:
    """Advisory key serialising one entry's inserts across Python nodes: a negative
    bigint, never in Elixir's ``[0, 2**28)`` (as bridge.wire.unique's keys)."""
    entry = [job.worker, job.args_json, job.meta.get("cron_expr"), job.meta.get("cron_tz")]
    material = json.dumps(["cron", prefix, *entry])
    digest = hashlib.blake2b(material.encode(), digest_size=8).digest()
    return -(int.from_bytes(digest, "big") >> 1) - 1
