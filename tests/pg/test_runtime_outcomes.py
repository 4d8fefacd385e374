"""A running node writes, for each outcome, the row live Elixir Oban wrote.

Expected rows: ``tests/fixtures/outcomes`` (copied from ``../shared/vectors``, cross-checked in
``tests/unit/test_outcome.py``). Two checks per outcome:

* a real :class:`~bridge.runtime.node.Node` runs a job that does what the Elixir worker did;
  the columns it changed from insert to the end, the state, counters, which ``*_at`` are set,
  the error elements and the rescheduling delay are Elixir's;
* Elixir's own executing row is put back into PostgreSQL and acknowledged with the ack
  ``decide`` makes: the real ack statement must leave Elixir's final row.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from runtime_support import QUEUE, changed, connect, parse, pkill, row, run, serving, wait_state

from bridge import AsyncClient
from bridge.ops import acks
from bridge.pg.source import Source
from bridge.wire.etf import Atom
from bridge.wire.job import decode_job
from bridge.wire.outcome import Cancel, Killed, Raised, Result, Returned, Snooze, decide
from bridge.wire.producer_id import lock_objid
from bridge.wire.recorded import fetch_recorded

pytestmark = pytest.mark.pg

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "outcomes"
VERSIONS = ("2.18.3", "2.23.1")
AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
FINAL_AT = ("completed_at", "discarded_at", "cancelled_at")

#: vector case → (worker, args, max_attempts) of the Python job that does the same
JOBS: dict[str, tuple[str, dict[str, Any], int]] = {
    "ok": ("BridgeTest.Outcome", {"mode": "ok"}, 3),
    "ok_value": ("BridgeTest.Outcome", {"mode": "value"}, 3),
    "error": ("BridgeTest.Outcome", {"mode": "error"}, 3),
    "raise": ("BridgeTest.Outcome", {"mode": "raise"}, 3),
    "exhausted": ("BridgeTest.FastRetry", {}, 2),
    "cancel": ("BridgeTest.Outcome", {"mode": "cancel"}, 3),
    "snooze": ("BridgeTest.Outcome", {"mode": "snooze"}, 3),
    "pkill": ("BridgeTest.Outcome", {"mode": "sleep", "seconds": 60}, 3),
}
#: error texts Python states exactly as Elixir (the worker name aside)
SAME_TEXT = ("cancel", "pkill")


def elixir(version: str, name: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / f"oban-{version}.json").read_text(encoding="utf-8"))
    case: dict[str, Any] = data["outcomes"][name]
    return case


async def _run_case(dsn: str, name: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    worker, args, max_attempts = JOBS[name]
    conn = await connect(dsn)
    async with conn, AsyncClient(dsn) as client:
        job = await client.enqueue(worker, args, queue=QUEUE, max_attempts=max_attempts)
        assert job.id is not None
        before = await row(conn, job.id)  # read before any node runs
        async with serving(dsn) as node:
            if name == "pkill":
                await wait_state(conn, job.id, ("executing",))
                await conn.execute("SELECT pg_notify('public.oban_signal', %s)", (pkill(job.id),))
            # exhausted: the retry after 1 s needs the leader's stager (generous timeout)
            after = await wait_state(conn, job.id, timeout=60)
            return before, after, node.name


@pytest.fixture(params=sorted(JOBS))
def name(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


async def _outcome(dsn: str, name: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    if name in ("snooze", "error", "raise"):
        return await _run_until(dsn, name)
    return await _run_case(dsn, name)


async def _run_until(dsn: str, name: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Outcomes that end in a non-final state (scheduled, retryable)."""
    worker, args, max_attempts = JOBS[name]
    wanted = "scheduled" if name == "snooze" else "retryable"
    conn = await connect(dsn)
    async with conn, AsyncClient(dsn) as client:
        job = await client.enqueue(worker, args, queue=QUEUE, max_attempts=max_attempts)
        assert job.id is not None
        before = await row(conn, job.id)
        async with serving(dsn) as node:
            after = await wait_state(conn, job.id, (wanted,))
            return before, after, node.name


@pytest.mark.parametrize("version", VERSIONS)
def test_node_writes_elixirs_columns(dsn: str, version: str, name: str) -> None:
    before, after, node = run(_outcome(dsn, name))
    theirs = elixir(version, name)
    # the same columns changed between insert and the end (fetch + ack), nothing else
    assert changed(before, after) == changed(theirs["before"], theirs["after"])
    for column in ("state", "attempt", "max_attempts", "meta", "priority", "tags"):
        assert after[column] == theirs["after"][column], column
    for column in FINAL_AT:
        assert (after[column] is None) == (theirs["after"][column] is None), column
    # attempted_by is [node, producer uuid]; ours names a liveness lock
    assert after["attempted_by"][0] == node
    assert lock_objid(after["attempted_by"][1]) is not None
    _check_errors(name, after, theirs)
    _check_delays(name, after, theirs)


def _check_errors(name: str, after: dict[str, Any], theirs: dict[str, Any]) -> None:
    ours, elixirs = after["errors"], theirs["after"]["errors"]
    assert len(ours) == len(elixirs)
    for mine, other in zip(ours, elixirs, strict=True):
        assert set(mine) == set(other) == {"at", "attempt", "error"}
        assert mine["attempt"] == other["attempt"]
        assert AT.fullmatch(mine["at"]) and AT.fullmatch(other["at"])
        assert re.match(r"\*\* \(\S+\) ", mine["error"])
        if name in SAME_TEXT:
            assert mine["error"] == other["error"].replace(theirs["worker"], after["worker"])
    if name == "raise":
        assert ours[0]["error"].startswith("** (ValueError) kaboom\n    File ")
        assert elixirs[0]["error"].startswith("** (ArgumentError) kaboom\n    ")
    for column in FINAL_AT:
        if after[column] is not None and ours:
            # one clock read: the final timestamp is the last error's at
            assert parse(after[column]) == parse(ours[-1]["at"])


def _check_delays(name: str, after: dict[str, Any], theirs: dict[str, Any]) -> None:
    if name in ("error", "raise"):
        ours = parse(after["scheduled_at"]) - parse(after["errors"][-1]["at"])
        elixirs = parse(theirs["after"]["scheduled_at"]) - parse(
            theirs["after"]["errors"][-1]["at"]
        )
        print(f"{name}: backoff {ours.total_seconds()}s (Elixir {elixirs.total_seconds()}s)")
        assert ours in (timedelta(seconds=17), timedelta(seconds=18))  # attempt 1: 17 + U·1.7
        assert timedelta(seconds=17) <= elixirs < timedelta(seconds=19)
    if name == "snooze":
        ours = parse(after["scheduled_at"]) - parse(after["attempted_at"])
        elixirs = parse(theirs["after"]["scheduled_at"]) - parse(theirs["after"]["attempted_at"])
        print(f"snooze: {ours.total_seconds()}s after attempted_at (Elixir {elixirs})")
        assert timedelta(seconds=30) <= ours < timedelta(seconds=40)
    if name == "exhausted":
        first, second = (parse(e["at"]) for e in after["errors"])
        assert first + timedelta(seconds=1) == parse(after["scheduled_at"])  # backoff/1 → 1
        assert second - first >= timedelta(seconds=1)


def test_recorded_worker_and_record_write_meta(dsn: str) -> None:
    async def body() -> list[dict[str, Any]]:
        conn = await connect(dsn)
        async with conn, AsyncClient(dsn) as client:
            a = await client.enqueue("BridgeTest.Recorded", {"value": [1, "two"]}, queue=QUEUE)
            b = await client.enqueue(
                "BridgeTest.Outcome", {"mode": "record", "value": 3}, queue=QUEUE, meta={"k": 1}
            )
            before = [await row(conn, j.id) for j in (a, b)]  # type: ignore[arg-type]
            async with serving(dsn):
                after = [await wait_state(conn, j.id) for j in (a, b)]  # type: ignore[arg-type]
            for old, new in zip(before, after, strict=True):
                assert changed(old, new) == {
                    "state",
                    "attempt",
                    "attempted_at",
                    "attempted_by",
                    "completed_at",
                    "meta",
                }
            return after

    recorded, record = run(body())
    assert recorded["state"] == record["state"] == "completed"
    assert recorded["meta"]["recorded"] is True and set(recorded["meta"]) == {"recorded", "return"}
    assert fetch_recorded(recorded) == [1, "two"]
    assert record["meta"]["k"] == 1  # merged into the meta there was
    assert fetch_recorded(record) == (Atom("ok"), 3)


def test_snooze_attempt_style_counts_in_meta_until_done(dsn: str) -> None:
    # Oban main: attempt - 1 and meta.snoozed + 1 per snooze; max_attempts untouched
    async def body() -> tuple[dict[str, Any], dict[str, Any]]:
        conn = await connect(dsn)
        async with conn, AsyncClient(dsn) as client:
            job = await client.enqueue(
                "BridgeTest.Outcome", {"mode": "snooze_until", "times": 2}, queue=QUEUE
            )
            assert job.id is not None
            before = await row(conn, job.id)
            async with serving(dsn, snooze="attempt"):
                first = await wait_state(conn, job.id, ("scheduled",))
                last = await wait_state(conn, job.id, timeout=60)
            assert changed(before, first) == {
                "state",
                "attempted_at",
                "attempted_by",
                "scheduled_at",
                "meta",
            }
            assert (first["attempt"], first["max_attempts"]) == (0, 20)
            assert first["meta"] == {"snoozed": 1}
            return first, last

    _, last = run(body())
    assert (last["state"], last["attempt"], last["max_attempts"]) == ("completed", 1, 20)
    assert last["meta"] == {"snoozed": 2} and last["errors"] == []


def test_discard_return_is_discarded_with_the_perform_error(dsn: str) -> None:
    async def body() -> dict[str, Any]:
        conn = await connect(dsn)
        async with conn, AsyncClient(dsn) as client:
            job = await client.enqueue("BridgeTest.Outcome", {"mode": "discard"}, queue=QUEUE)
            async with serving(dsn):
                return await wait_state(conn, job.id)  # type: ignore[arg-type]

    after = run(body())
    assert (after["state"], after["attempt"]) == ("discarded", 1)
    assert after["discarded_at"] is not None and after["completed_at"] is None
    assert [e["error"] for e in after["errors"]] == [
        '** (Oban.PerformError) BridgeTest.Outcome failed with {:discard, "bad input"}'
    ]


# --- Elixir's executing rows through the real ack statement -----------------------------------

REPLAY: dict[str, Result] = {
    "ok": Returned(None),
    "ok_value": Returned({"result": 42}),
    "error": Raised("RuntimeError", "boom"),
    "raise": Raised("ArgumentError", "kaboom"),
    "cancel": Returned(Cancel("nope")),
    "snooze": Returned(Snooze(30)),
    "pkill": Killed(),
}

#: state → the ack statement that writes it (Elixir's complete/error/discard/cancel/snooze_job)
STATEMENTS = {
    "completed": acks.complete_job,
    "retryable": acks.error_job,
    "discarded": acks.discard_job,
    "cancelled": acks.cancel_job,
    "scheduled": acks.snooze_job,
}

_INSERT = """\
INSERT INTO oban_jobs (id, state, queue, worker, args, errors, attempt, max_attempts,
  inserted_at, scheduled_at, attempted_at, attempted_by, priority, tags, meta)
VALUES (%(id)s, %(state)s, %(queue)s, %(worker)s, %(args)s,
  (SELECT coalesce(array_agg(e), '{}') FROM jsonb_array_elements(%(errors)s::jsonb) AS e),
  %(attempt)s, %(max_attempts)s, %(inserted_at)s, %(scheduled_at)s, %(attempted_at)s,
  %(attempted_by)s, %(priority)s, %(tags)s, %(meta)s)"""


def _put(conn: psycopg.Connection[Any], vector_row: dict[str, Any]) -> None:
    params = dict(vector_row)
    for key in ("args", "meta", "errors"):
        params[key] = json.dumps(vector_row[key])
    conn.execute(_INSERT, params)


def _ack_time(during: dict[str, Any], after: dict[str, Any]) -> datetime:
    if len(after["errors"]) > len(during["errors"]):
        return parse(after["errors"][-1]["at"])
    for column in FINAL_AT:
        if after[column] is not None:
            return parse(after[column])
    return parse(after["attempted_at"]) + timedelta(milliseconds=10)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case_name", sorted(REPLAY))
def test_ack_statement_turns_elixirs_executing_row_into_elixirs_final_row(
    dsn: str, version: str, case_name: str
) -> None:
    theirs = elixir(version, case_name)
    during, expected = theirs["during_perform"][-1], theirs["after"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        _put(conn, during)
        stored = conn.cursor(row_factory=dict_row).execute(
            "SELECT * FROM oban_jobs WHERE id = %s", (during["id"],)
        )
        job = decode_job(stored.fetchone())  # type: ignore[arg-type]
        ack = decide(job, REPLAY[case_name], now=_ack_time(during, expected), rng=lambda: 0.999)
        write = STATEMENTS[ack.state.value]
        assert Source(conn).run(write("public", ack)) is True
        # a second delivery of the same ack matches no executing row: nothing changes
        assert Source(conn).run(write("public", ack)) is False
        got = conn.execute(
            "SELECT row_to_json(j.*) FROM oban_jobs j WHERE id = %s", (during["id"],)
        ).fetchone()[0]  # type: ignore[index]
    assert changed(during, got) == changed(during, expected)
    for column, value in expected.items():
        if column == "errors":
            assert [e["attempt"] for e in got[column]] == [e["attempt"] for e in value]
            assert all(set(e) == {"at", "attempt", "error"} for e in got[column])
            if case_name in SAME_TEXT:
                assert got[column] == value  # to the character, the at included
        elif column.endswith("_at") and value is not None:
            assert abs(parse(got[column]) - parse(value)) < timedelta(milliseconds=20), column
        else:
            assert got[column] == value, column
