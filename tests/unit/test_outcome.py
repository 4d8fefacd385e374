"""``bridge.wire.outcome.decide`` against the rows live Elixir Oban wrote for each outcome.

Data: ``tests/fixtures/outcomes/oban-<version>.json`` — the ``outcomes`` cases of the vectors'
``jobs.json`` (the row before, the executing row(s) read inside ``perform``, the row after),
see :func:`extract`. When ``../shared/vectors`` is present the fixtures are re-extracted from
it and must be identical (regenerate with ``python tests/unit/test_outcome.py``).

Each case is replayed through ``decide`` on the executing row Elixir ran, with ``now`` taken
from the row Elixir wrote, and the ack must write exactly the columns Elixir changed, with
Elixir's values (the error element to the character where Python can say the same thing).
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.errors import EncodeError, RecordTooLarge
from bridge.names import JobState
from bridge.wire.backoff import default_backoff
from bridge.wire.etf import Atom
from bridge.wire.job import Job, decode_job, utc_naive
from bridge.wire.outcome import (
    Ack,
    Cancel,
    Discard,
    Killed,
    Raised,
    Record,
    Result,
    Returned,
    Snooze,
    TimedOut,
    decide,
    error_element,
    error_text,
    exception_name,
    perform_error,
)
from bridge.wire.recorded import RECORDED_LIMIT, decode_recorded

HERE = Path(__file__).resolve()
FIXTURES = HERE.parents[1] / "fixtures" / "outcomes"
SHARED_VECTORS = HERE.parents[2].parent / "shared" / "vectors"
VERSIONS = ("2.18.3", "2.23.1")
#: the perform outcomes (``retry_job_of_discarded`` is a client call, not an outcome)
CASES = ("ok", "ok_value", "error", "raise", "exhausted", "cancel", "snooze", "pkill")
KEPT = ("worker", "worker_returns", "max_attempts", "before", "during_perform", "after")
FINAL_AT = {"completed": "completed_at", "discarded": "discarded_at", "cancelled": "cancelled_at"}
AT_PATTERN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
NEVER = lambda: 0.0  # noqa: E731 - the lowest jitter
ALMOST = lambda: 0.999  # noqa: E731 - the highest jitter a [0, 1) draw gets near


# --- fixture extraction (also used to cross-check against ../shared/vectors) ------------------


def extract(jobs: dict[str, Any]) -> dict[str, Any]:
    """The outcome rows of one version's ``jobs.json``."""
    outcomes = {
        case: {key: jobs["outcomes"][case][key] for key in KEPT}
        | {"during_perform": [p["row"] for p in jobs["outcomes"][case]["during_perform"]]}
        for case in CASES
    }
    return {
        "oban_version": jobs["oban_version"],
        "source": f"shared/vectors/oban-{jobs['oban_version']}/jobs.json (outcomes: before, "
        "the rows read inside perform, after), captured from live Elixir Oban",
        "outcomes": outcomes,
    }


def fixture(version: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (FIXTURES / f"oban-{version}.json").read_text(encoding="utf-8")
    )
    return data


def case(version: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = fixture(version)["outcomes"][name]
    return found


@pytest.mark.parametrize("version", VERSIONS)
def test_fixtures_match_the_shared_vectors(version: str) -> None:
    path = SHARED_VECTORS / f"oban-{version}" / "jobs.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent (the fixtures are a copy of it)")
    shared = json.loads(path.read_text(encoding="utf-8"))
    assert extract(shared) == fixture(version), (
        "the shared vectors changed: regenerate with `python tests/unit/test_outcome.py`"
    )


# --- rows ---------------------------------------------------------------------------------------


def parse(text: str) -> datetime:
    """A vector timestamp: row_to_json trims the fraction, errors' ``at`` ends in Z."""
    head, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{fraction.ljust(6, '0')}" if fraction else head)


TIMESTAMPS = (
    "inserted_at",
    "scheduled_at",
    "attempted_at",
    "completed_at",
    "discarded_at",
    "cancelled_at",
)


def job_of(row: dict[str, Any]) -> Job:
    """The job Elixir's executor held: the executing row as it was fetched."""
    typed = {k: parse(v) if k in TIMESTAMPS and v is not None else v for k, v in row.items()}
    return decode_job(typed)


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {column for column in after if before[column] != after[column]}


def written(ack: Ack) -> set[str]:
    """The columns an ack writes (ops/acks.py's CASEs, read off the ack)."""
    columns = {"state"}
    if ack.state.value in FINAL_AT:
        columns.add(FINAL_AT[ack.state.value])
    if ack.scheduled_at is not None:
        columns.add("scheduled_at")
    if ack.error is not None:
        columns.add("errors")
    if ack.record is not None or ack.meta is not None:
        columns.add("meta")
    if ack.max_attempts_add:
        columns.add("max_attempts")
    if ack.attempt_add:
        columns.add("attempt")
    return columns


def stamp(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def apply(row: dict[str, Any], ack: Ack) -> dict[str, Any]:
    """The row the ack statement leaves (the CASEs of ops/acks.py, in Python)."""
    out = dict(row)
    out["state"] = ack.state.value
    if ack.state.value in FINAL_AT:
        out[FINAL_AT[ack.state.value]] = stamp(ack.at)
    if ack.scheduled_at is not None:
        out["scheduled_at"] = stamp(ack.scheduled_at)
    if ack.error is not None:
        out["errors"] = [*row["errors"], ack.error]
    if ack.meta is not None:
        out["meta"] = ack.meta
    elif ack.record is not None:
        out["meta"] = {**(row["meta"] or {}), **ack.record}
    out["max_attempts"] = row["max_attempts"] + ack.max_attempts_add
    out["attempt"] = row["attempt"] + ack.attempt_add
    return out


def close(a: str | None, b: str | None, within: timedelta) -> bool:
    if a is None or b is None:
        return a is b
    return abs(parse(a) - parse(b)) <= within


def same_row(ours: dict[str, Any], elixir: dict[str, Any], clock: timedelta) -> None:
    """Every column equal; timestamps within ``clock`` (Elixir reads its clock per column)."""
    assert set(ours) == set(elixir)
    for column in ours:
        if column in TIMESTAMPS:
            assert close(ours[column], elixir[column], clock), column
        elif column == "errors":
            assert len(ours[column]) == len(elixir[column])
            for mine, theirs in zip(ours[column], elixir[column], strict=True):
                assert set(mine) == set(theirs) == {"at", "attempt", "error"}
                assert mine["attempt"] == theirs["attempt"]
                assert close(mine["at"], theirs["at"], clock)
        else:
            assert ours[column] == elixir[column], column


# --- the replay ---------------------------------------------------------------------------------

FRAMES = ('File "/app/workers.py", line 16, in perform', 'File "/app/run.py", line 3, in run')

#: what a Python worker does for each Elixir case
PYTHON: dict[str, Result] = {
    "ok": Returned(None),
    "ok_value": Returned({"result": 42}),
    "error": Raised("RuntimeError", "boom"),  # Python has no {:error, _}: it raises
    "raise": Raised("ArgumentError", "kaboom", FRAMES),
    "cancel": Returned(Cancel("nope")),
    "snooze": Returned(Snooze(30)),
    "pkill": Killed(),
}
#: cases whose error text Python states exactly as Elixir does
SAME_TEXT = ("cancel", "pkill")


def ack_time(during: dict[str, Any], after: dict[str, Any]) -> datetime:
    """When Elixir acknowledged: its new error's ``at``, else the final timestamp."""
    if len(after["errors"]) > len(during["errors"]):
        return parse(after["errors"][-1]["at"])
    column = FINAL_AT.get(after["state"])
    if column is not None:
        return parse(after[column])
    return parse(after["attempted_at"]) + timedelta(milliseconds=10)


def replay(version: str, name: str, rng: Callable[[], float] = ALMOST) -> tuple[Ack, datetime]:
    data = case(version, name)
    during, after = data["during_perform"][-1], data["after"]
    now = ack_time(during, after)
    return decide(job_of(during), PYTHON[name], now=now, rng=rng), now


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(PYTHON))
def test_ack_writes_the_columns_elixir_wrote(version: str, name: str) -> None:
    data = case(version, name)
    during, after = data["during_perform"][-1], data["after"]
    ack, _ = replay(version, name)
    assert written(ack) == changed(during, after)
    assert ack.state.value == after["state"]
    assert ack.attempt_add == after["attempt"] - during["attempt"]
    assert ack.max_attempts_add == after["max_attempts"] - during["max_attempts"]
    assert ack.job_id == during["id"]
    # the ack guard, this run only (a Job read back is aware UTC; the column is naive UTC)
    assert utc_naive(ack.attempted_at) == parse(during["attempted_at"])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(PYTHON))
def test_the_acked_row_equals_elixirs(version: str, name: str) -> None:
    data = case(version, name)
    during, after = data["during_perform"][-1], data["after"]
    ack, _ = replay(version, name)
    ours = apply(during, ack)
    # Elixir takes a fresh utc_now for each column it writes (µs apart); the backoff of the
    # vectors drew the high end of the jitter (18 s for attempt 1), as rng=0.999 does here
    same_row(ours, after, clock=timedelta(milliseconds=20))
    if name in SAME_TEXT:
        assert ours["errors"] == after["errors"]  # the element to the character: at, text


@pytest.mark.parametrize("version", VERSIONS)
def test_error_and_raise_texts_have_elixirs_shape(version: str) -> None:
    raised, _ = replay(version, "raise")
    elixir = case(version, "raise")["after"]["errors"][-1]["error"]
    assert raised.error is not None
    text = raised.error["error"]
    assert text.splitlines()[0] == elixir.splitlines()[0] == "** (ArgumentError) kaboom"
    # Exception.format/3: frames on lines indented by four spaces, a final newline
    for line in (text, elixir):
        assert all(frame.startswith("    ") for frame in line.splitlines()[1:])
        assert line.endswith("\n")
    assert text == '** (ArgumentError) kaboom\n    File "/app/workers.py", line 16, in perform\n' \
        '    File "/app/run.py", line 3, in run\n'  # fmt: skip
    failed, _ = replay(version, "error")
    assert failed.error is not None
    elixir_error = case(version, "error")["after"]["errors"][-1]["error"]
    assert re.fullmatch(r"\*\* \(\S+\) .+", elixir_error)
    assert failed.error["error"] == "** (RuntimeError) boom"  # no frames: no trailing newline


@pytest.mark.parametrize("version", VERSIONS)
def test_cancel_and_pkill_texts_equal_elixirs_for_any_worker(version: str) -> None:
    for name, returned in (("cancel", '{:cancel, "nope"}'), ("pkill", "{:cancel, :shutdown}")):
        elixir = case(version, name)["after"]["errors"][-1]["error"]
        worker = case(version, name)["worker"]
        assert elixir == perform_error(worker, returned)
        job = job_of(case(version, name)["during_perform"][-1])
        job.worker = "badge_forge.generator.GenerateBadge"
        ack = decide(job, PYTHON[name], now=datetime(2026, 1, 1), rng=NEVER)
        assert ack.error is not None
        assert ack.error["error"] == elixir.replace(worker, job.worker)


@pytest.mark.parametrize("version", VERSIONS)
def test_retry_backoff_is_elixirs_for_attempt_one(version: str) -> None:
    for name in ("error", "raise"):
        after = case(version, name)["after"]
        elixir = parse(after["scheduled_at"]) - parse(after["errors"][-1]["at"])
        low, _ = replay(version, name, rng=NEVER)
        high, now = replay(version, name, rng=ALMOST)
        assert low.scheduled_at is not None and high.scheduled_at is not None
        assert (low.scheduled_at - now, high.scheduled_at - now) == (
            timedelta(seconds=17),
            timedelta(seconds=18),
        )
        assert timedelta(seconds=17) <= elixir < timedelta(seconds=19)


@pytest.mark.parametrize("version", VERSIONS)
def test_exhausted_job_retries_then_discards_like_elixir(version: str) -> None:
    data = case(version, "exhausted")
    first_row, second_row = data["during_perform"]
    after = data["after"]
    assert (first_row["attempt"], second_row["attempt"], after["max_attempts"]) == (1, 2, 2)
    # attempt 1 of 2: retryable; the captured worker's backoff/1 returned 1 second
    first_at = parse(after["errors"][0]["at"])
    first = decide(
        job_of(first_row), PYTHON["error"], now=first_at, rng=NEVER, backoff=lambda job: 1
    )
    assert (first.state, first.event, first.status) == (
        JobState.RETRYABLE,
        "job:exception",
        "failure",
    )
    assert first.scheduled_at == first_at + timedelta(seconds=1)
    assert after["scheduled_at"] is not None
    assert close(stamp(first.scheduled_at), after["scheduled_at"], timedelta(milliseconds=5))
    assert first.error is not None and first.error["attempt"] == 1
    # attempt 2 of 2: discarded, the second element appended, no rescheduling
    second_at = parse(after["errors"][1]["at"])
    second = decide(job_of(second_row), PYTHON["error"], now=second_at, rng=NEVER)
    assert (second.state, second.status, second.scheduled_at) == (
        JobState.DISCARDED,
        "discard",
        None,
    )
    assert written(second) == changed(second_row, after)
    same_row(apply(second_row, second), after, clock=timedelta(milliseconds=20))
    assert [e["attempt"] for e in apply(second_row, second)["errors"]] == [1, 2]


@pytest.mark.parametrize("version", VERSIONS)
def test_snooze_keeps_attempt_and_bumps_max_attempts_like_2_18_and_2_23(version: str) -> None:
    data = case(version, "snooze")
    during, after = data["during_perform"][-1], data["after"]
    ack, now = replay(version, "snooze")
    assert ack.scheduled_at == now + timedelta(seconds=30)
    elixir = parse(after["scheduled_at"]) - parse(after["attempted_at"])
    assert timedelta(seconds=30) <= elixir < timedelta(seconds=31)
    assert (ack.max_attempts_add, ack.attempt_add, ack.meta, ack.error) == (1, 0, None, None)
    assert (ack.state, ack.status, ack.event) == (JobState.SCHEDULED, "snoozed", "job:stop")
    assert after["meta"] == during["meta"] == {}


# --- every branch, beyond the vectors -----------------------------------------------------------

NOW = datetime(2026, 11, 22, 15, 46, 15, 379698)
ATTEMPTED = datetime(2026, 11, 22, 15, 46, 15, 360493)


def running(attempt: int = 1, max_attempts: int = 3, meta: dict[str, Any] | None = None) -> Job:
    return Job(
        id=7,
        state=JobState.EXECUTING,
        queue="exec",
        worker="badge_forge.Worker",
        args={"mode": "x"},
        attempt=attempt,
        max_attempts=max_attempts,
        attempted_at=ATTEMPTED,
        attempted_by=["py-1", "00000001-0000-8000-8000-627269646765"],
        meta={} if meta is None else meta,
    )


@pytest.mark.parametrize("value", [None, 0, "", "done", [1], {"result": 42}, Atom("ok")])
def test_any_returned_value_completes(value: Any) -> None:
    ack = decide(running(), Returned(value), now=NOW, rng=NEVER)
    assert (ack.state, ack.at, ack.error, ack.record, ack.scheduled_at) == (
        JobState.COMPLETED,
        NOW,
        None,
        None,
        None,
    )
    assert ack.plain_complete and (ack.event, ack.status) == ("job:stop", "success")
    assert written(ack) == {"state", "completed_at"}


@pytest.mark.parametrize(
    ("result", "recorded", "value"),
    [
        (Returned(Record({"rows": 42})), False, {"rows": 42}),
        (Returned(Record(None)), False, None),
        (Returned({"rows": 42}), True, {"rows": 42}),
        (Returned(None), True, None),
        (Returned((Atom("ok"), "done")), True, (Atom("ok"), "done")),
    ],
)
def test_record_and_recorded_workers_store_the_value_in_meta(
    result: Result, recorded: bool, value: Any
) -> None:
    ack = decide(running(), result, now=NOW, rng=NEVER, recorded=recorded)
    assert ack.state is JobState.COMPLETED and not ack.plain_complete
    assert ack.record is not None and ack.record["recorded"] is True
    assert set(ack.record) == {"recorded", "return"}
    assert decode_recorded(ack.record["return"]) == value
    assert written(ack) == {"state", "completed_at", "meta"}
    # merged into the meta there is (ack SQL: meta || record), other keys kept
    assert apply({**_row(), "meta": {"trace": "t1"}}, ack)["meta"] == {"trace": "t1", **ack.record}


def _row() -> dict[str, Any]:
    return {
        "state": "executing",
        "errors": [],
        "meta": {},
        "max_attempts": 3,
        "attempt": 1,
        "scheduled_at": None,
        "completed_at": None,
        "discarded_at": None,
        "cancelled_at": None,
    }


@pytest.mark.parametrize("recorded", [False, True])
def test_recorded_workers_still_snooze_cancel_and_discard(recorded: bool) -> None:
    for returned, state in (
        (Snooze(5), JobState.SCHEDULED),
        (Cancel("nope"), JobState.CANCELLED),
        (Discard("bad"), JobState.DISCARDED),
    ):
        ack = decide(running(), Returned(returned), now=NOW, rng=NEVER, recorded=recorded)
        assert (ack.state, ack.record) == (state, None)


def test_record_too_large_fails_the_attempt_instead_of_completing() -> None:
    value = random.Random(0).randbytes(30_000)  # incompressible: ~40,000 characters of base64
    for result, recorded in ((Returned(Record(value)), False), (Returned(value), True)):
        ack = decide(running(), result, now=NOW, rng=NEVER, recorded=recorded)
        assert (ack.state, ack.record, ack.status) == (JobState.RETRYABLE, None, "failure")
        assert ack.error is not None
        assert ack.error["error"].splitlines()[0] == (
            f"** (bridge.errors.RecordTooLarge) recorded value is 40008 characters encoded, "
            f"over the limit of {RECORDED_LIMIT}"
        )  # then the frames of the encoder that refused it
        assert ack.scheduled_at == NOW + timedelta(seconds=17)
    last = decide(running(3, 3), Returned(Record(value)), now=NOW, rng=NEVER)
    assert last.state is JobState.DISCARDED


def test_unencodable_record_fails_with_the_encode_error() -> None:
    ack = decide(running(), Returned(Record(object())), now=NOW, rng=NEVER)
    assert ack.state is JobState.RETRYABLE and ack.error is not None
    first = ack.error["error"].splitlines()[0]
    assert first == "** (bridge.errors.EncodeError) cannot encode object value to ETF"
    assert issubclass(RecordTooLarge, EncodeError)


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("nope", '{:cancel, "nope"}'),
        (Atom("shutdown"), "{:cancel, :shutdown}"),
        ({"why": "dup"}, '{:cancel, %{"why" => "dup"}}'),
        (None, "{:cancel, nil}"),
    ],
)
def test_cancel_records_elixirs_perform_error(reason: Any, text: str) -> None:
    ack = decide(running(), Returned(Cancel(reason)), now=NOW, rng=NEVER)
    assert (ack.state, ack.at, ack.scheduled_at) == (JobState.CANCELLED, NOW, None)
    assert ack.error == {
        "at": "2026-11-22T15:46:15.379698Z",
        "attempt": 1,
        "error": f"** (Oban.PerformError) badge_forge.Worker failed with {text}",
    }
    assert (ack.event, ack.status) == ("job:stop", "cancelled")
    assert written(ack) == {"state", "cancelled_at", "errors"}


def test_cancel_and_discard_defaults() -> None:
    cancel = decide(running(), Returned(Cancel()), now=NOW, rng=NEVER)
    discard = decide(running(), Returned(Discard()), now=NOW, rng=NEVER)
    assert cancel.error is not None and discard.error is not None
    assert cancel.error["error"].endswith('failed with {:cancel, "cancelled"}')
    assert discard.error["error"].endswith('failed with {:discard, "discarded"}')


def test_discard_ends_discarded_even_with_attempts_left() -> None:
    ack = decide(running(1, 20), Returned(Discard("bad input")), now=NOW, rng=NEVER)
    assert (ack.state, ack.at, ack.scheduled_at) == (JobState.DISCARDED, NOW, None)
    assert ack.error is not None
    assert ack.error["error"] == (
        '** (Oban.PerformError) badge_forge.Worker failed with {:discard, "bad input"}'
    )
    assert (ack.event, ack.status) == ("job:stop", "discard")
    assert written(ack) == {"state", "discarded_at", "errors"}


def test_killed_is_cancelled_with_shutdown() -> None:
    ack = decide(running(3, 3), Killed(), now=NOW, rng=NEVER)  # even on the last attempt
    assert ack.state is JobState.CANCELLED and ack.error is not None
    assert ack.error["error"] == (
        "** (Oban.PerformError) badge_forge.Worker failed with {:cancel, :shutdown}"
    )


@pytest.mark.parametrize("ms", [1, 300, 15_000])
def test_timed_out_is_a_failure_with_the_timeout_error_text(ms: int) -> None:
    ack = decide(running(), TimedOut(ms), now=NOW, rng=NEVER)
    assert ack.state is JobState.RETRYABLE and ack.error is not None
    assert ack.error["error"] == f"** (Oban.TimeoutError) badge_forge.Worker timed out after {ms}ms"
    assert (ack.event, ack.status) == ("job:exception", "failure")
    assert ack.scheduled_at == NOW + timedelta(seconds=17)
    assert written(ack) == {"state", "scheduled_at", "errors"}
    last = decide(running(3, 3), TimedOut(ms), now=NOW, rng=NEVER)
    assert (last.state, last.scheduled_at) == (JobState.DISCARDED, None)


@pytest.mark.parametrize("attempt", range(1, 21))
def test_raise_is_retryable_with_the_default_backoff_range(attempt: int) -> None:
    low = decide(running(attempt, 21), Raised("ValueError", "x"), now=NOW, rng=NEVER)
    high = decide(running(attempt, 21), Raised("ValueError", "x"), now=NOW, rng=ALMOST)
    assert low.state is high.state is JobState.RETRYABLE
    assert low.scheduled_at is not None and high.scheduled_at is not None
    # max_attempts 21 > 20: Elixir clamps the attempt onto 1..20 first
    clamped = int((Decimal(attempt * 20) / 21).quantize(Decimal(1), ROUND_HALF_UP))
    base = 15 + 2**clamped
    assert low.scheduled_at - NOW == timedelta(seconds=base)
    assert high.scheduled_at - NOW == timedelta(seconds=base + int(0.999 * 0.1 * base))
    assert low.error is not None and low.error["attempt"] == attempt


def test_exhausted_attempts_discard() -> None:
    for attempt, max_attempts in ((1, 1), (3, 3), (20, 20)):
        ack = decide(running(attempt, max_attempts), Raised("E", "m"), now=NOW, rng=NEVER)
        assert (ack.state, ack.at, ack.scheduled_at) == (JobState.DISCARDED, NOW, None)
        assert (ack.event, ack.status) == ("job:exception", "discard")
        assert written(ack) == {"state", "discarded_at", "errors"}


def test_worker_backoff_overrides_and_none_falls_back() -> None:
    custom = decide(running(), Raised("E", "m"), now=NOW, rng=NEVER, backoff=lambda job: 1)
    assert custom.scheduled_at == NOW + timedelta(seconds=1)
    fallback = decide(
        running(),
        Raised("E", "m"),
        now=NOW,
        rng=NEVER,
        backoff=lambda job: None,  # type: ignore[arg-type, return-value]
    )
    assert fallback.scheduled_at == NOW + timedelta(seconds=17)


def test_snooze_max_attempts_style() -> None:
    ack = decide(running(2, 20, {"k": 1}), Returned(Snooze(0)), now=NOW, rng=NEVER)
    assert (ack.state, ack.scheduled_at, ack.max_attempts_add, ack.attempt_add) == (
        JobState.SCHEDULED,
        NOW,
        1,
        0,
    )
    assert (ack.meta, ack.error, ack.record) == (None, None, None)
    assert written(ack) == {"state", "scheduled_at", "max_attempts"}


@pytest.mark.parametrize(
    ("meta", "snoozed"),
    [
        ({}, 1),
        ({"snoozed": 1}, 2),
        ({"snoozed": 41, "k": "v"}, 42),
        ({"snoozed": "3"}, 1),  # Elixir raises on a non-integer; bridge restarts the count
        ({"snoozed": None}, 1),
        ({"snoozed": 2.0}, 1),
        ({"snoozed": [1]}, 1),
    ],
)
def test_snooze_attempt_style_decrements_attempt_and_counts_in_meta(
    meta: dict[str, Any], snoozed: int
) -> None:
    job = running(2, 20, meta)
    ack = decide(job, Returned(Snooze(30)), now=NOW, rng=NEVER, snooze="attempt")
    assert (ack.state, ack.scheduled_at) == (JobState.SCHEDULED, NOW + timedelta(seconds=30))
    assert (ack.attempt_add, ack.max_attempts_add) == (-1, 0)
    # Oban main's snooze_job/3: the job's in-memory meta, snoozed incremented, replaces meta
    assert ack.meta == {**meta, "snoozed": snoozed}
    assert job.meta == meta  # the job itself is left alone
    assert written(ack) == {"state", "scheduled_at", "meta", "attempt"}


def test_snooze_attempt_style_treats_a_boolean_snoozed_as_not_an_integer() -> None:
    ack = decide(
        running(2, 20, {"snoozed": True}), Returned(Snooze(1)), now=NOW, rng=NEVER, snooze="attempt"
    )
    assert ack.meta == {"snoozed": 1}


def test_snooze_rejects_bad_seconds() -> None:
    for bad in (-1, 1.5, True, "5", None):
        with pytest.raises(EncodeError):
            Snooze(bad)  # type: ignore[arg-type]


# --- Elixir's error element and texts ------------------------------------------------------------


def test_error_element_is_elixirs_format_attempt() -> None:
    assert error_element(datetime(2026, 1, 2, 3, 4, 5), 2, "boom") == {
        "at": "2026-01-02T03:04:05.000000Z",
        "attempt": 2,
        "error": "boom",
    }


@given(st.datetimes(min_value=datetime(1970, 1, 1)), st.integers(1, 2**31 - 1), st.text())
def test_error_element_shape(at: datetime, attempt: int, text: str) -> None:
    element = error_element(at, attempt, text)
    assert list(element) == ["at", "attempt", "error"]
    assert AT_PATTERN.fullmatch(element["at"])
    assert parse(element["at"]) == at
    assert (element["attempt"], element["error"]) == (attempt, text)


def test_raised_of_reads_a_real_traceback_and_skips_runtime_frames() -> None:
    def perform() -> None:
        raise KeyError("missing")

    try:
        perform()
    except KeyError as exc:
        full = Raised.of(exc)
        skipped = Raised.of(exc, skip=str(HERE))
    assert (full.kind, full.message) == ("KeyError", "'missing'")
    assert len(full.frames) == 2 and full.frames[-1].endswith(", in perform")
    assert full.frames[0].startswith(f'File "{HERE}", line ')
    assert skipped.frames == ()
    text = error_text(full)
    assert text.startswith("** (KeyError) 'missing'\n    File ")
    assert text.endswith(", in perform\n")


class CustomError(Exception):
    pass


def test_exception_names() -> None:
    assert exception_name(ValueError) == "ValueError"
    assert exception_name(CustomError) == f"{__name__}.CustomError"
    assert exception_name(RecordTooLarge) == "bridge.errors.RecordTooLarge"


@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.sampled_from([0.0, 0.25, 0.5, 0.999, 0.9999999999999999]),
)
def test_property_raise_is_retryable_until_the_last_attempt(
    attempt: int, max_attempts: int, u: float
) -> None:
    attempt = min(attempt, max_attempts)
    ack = decide(running(attempt, max_attempts), Raised("E", "m"), now=NOW, rng=lambda: u)
    assert ack.error is not None and ack.error["attempt"] == attempt
    assert AT_PATTERN.fullmatch(ack.error["at"])
    if attempt >= max_attempts:
        assert (ack.state, ack.scheduled_at) == (JobState.DISCARDED, None)
    else:
        assert ack.state is JobState.RETRYABLE and ack.scheduled_at is not None
        expected = default_backoff(attempt, max_attempts, lambda: u)
        assert ack.scheduled_at - NOW == timedelta(seconds=expected)


@given(st.integers(0, 10**7), st.sampled_from(["max_attempts", "attempt"]))
def test_property_snooze_schedules_exactly_seconds_later(seconds: int, style: str) -> None:
    ack = decide(
        running(3, 20),
        Returned(Snooze(seconds)),
        now=NOW,
        rng=NEVER,
        snooze=style,  # type: ignore[arg-type]
    )
    assert ack.scheduled_at == NOW + timedelta(seconds=seconds)
    assert ack.error is None and ack.state is JobState.SCHEDULED


def _regenerate() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for version in VERSIONS:
        shared = json.loads((SHARED_VECTORS / f"oban-{version}" / "jobs.json").read_text())
        data = extract(shared)
        text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        (FIXTURES / f"oban-{version}.json").write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {version}: {len(data['outcomes'])} outcomes\n")


if __name__ == "__main__":
    _regenerate()
