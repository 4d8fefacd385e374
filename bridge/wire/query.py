"""Which jobs a listing or a bulk action means, checked before anything is sent.

Oban filters jobs by id, state, queue and worker (``Oban.Job`` queries given to
``Oban.cancel_all_jobs/2`` and friends); bridge's ``list_jobs``, ``count_jobs`` and
``*_all_jobs`` take the same filters. A bad state, limit or id is a ``ValidationError``
naming the field here, before any I/O — never a server error half-way through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bridge.errors import ValidationError
from bridge.names import FINAL_STATES, STATES, JobState
from bridge.wire.unique import states_for_schema

#: one state, or several (a job in any of them)
StateFilter = str | Iterable[str] | None

#: PostgreSQL's bigint, the type of oban_jobs.id (v01.ex: bigserial)
MAX_ID = 2**63 - 1

#: the states each bulk action leaves alone — mirrors lib/oban/engines/basic.ex
#: cancel_all_jobs/2, retry_all_jobs/2 and delete_all_jobs/2
UNTOUCHED: dict[str, tuple[str, ...]] = {
    "cancel": FINAL_STATES,
    "retry": ("available", "executing"),
    "delete": ("executing",),
}


@dataclass(frozen=True)
class JobFilter:
    """Jobs matching every given criterion; ``ids=()`` matches nothing, ``None`` any id."""

    ids: tuple[int, ...] | None = None
    states: tuple[str, ...] = ()
    queue: str | None = None
    worker: str | None = None

    @property
    def everything(self) -> bool:
        """True when no criterion narrows the selection."""
        return self.ids is None and not self.states and self.queue is None and self.worker is None


def check_id(value: Any, name: str = "id") -> int:
    """A job id: a positive integer that fits the bigint column."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(name, f"must be an integer job id, got {value!r}")
    if not 1 <= value <= MAX_ID:
        raise ValidationError(name, f"must be between 1 and {MAX_ID}, got {value}")
    return value


def check_limit(value: Any) -> int:
    """How many rows a listing returns: at least 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("limit", f"must be an integer, got {value!r}")
    if not 1 <= value <= MAX_ID:
        raise ValidationError("limit", f"must be at least 1, got {value}")
    return value


def _states(value: StateFilter) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, (str, Iterable)):
        raise ValidationError("state", f"must be a state or a list of states, got {value!r}")
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        label = item.value if isinstance(item, JobState) else item
        if label not in STATES:
            raise ValidationError("state", f"must be one of {', '.join(STATES)}, got {item!r}")
        if label not in out:
            out.append(label)
    return tuple(out)


def _name(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValidationError(name, f"must be a string, got {type(value).__name__}")
    return value


def job_filter(
    *,
    ids: Iterable[int] | None = None,
    state: StateFilter = None,
    queue: str | None = None,
    worker: str | None = None,
    schema_version: int = 14,
) -> JobFilter:
    """Validate and normalise the criteria (repeated states combine: any of them)."""
    id_tuple = None if ids is None else tuple(check_id(i) for i in ids)
    states = _states(state)
    known = tuple(states_for_schema(states, schema_version))
    if states and not known:
        id_tuple = ()  # only labels this schema lacks (suspended before V14): no job has them
    return JobFilter(id_tuple, known, _name(queue, "queue"), _name(worker, "worker"))
