"""bridge.testing against a real database: enqueued assertions (in the caller's transaction
too), perform_job through the node's executor, drain_queue writing the real rows."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from bridge import (
    AsyncClient,
    Cancel,
    Client,
    Discard,
    Job,
    JobState,
    Snooze,
    ValidationError,
    worker,
)
from bridge.runtime.worker import Registry
from bridge.testing import (
    all_enqueued,
    all_enqueued_async,
    assert_enqueued,
    assert_enqueued_async,
    build_job,
    drain_queue,
    perform_job,
    refute_enqueued,
    refute_enqueued_async,
)
from bridge.wire.etf import Atom

pytestmark = pytest.mark.pg

REGISTRY = Registry()
QUEUE = "testing_q"


@worker("T.Echo", queue=QUEUE, registry=REGISTRY)
def echo(job: Job) -> object:
    kind = job.args.get("kind")
    if kind == "raise":
        raise KeyError("missing")
    return {"cancel": Cancel("stop"), "discard": Discard("bad"), "snooze": Snooze(5)}.get(
        kind, job.args.get("value")
    )


@worker("T.Async", queue=QUEUE, recorded=True, registry=REGISTRY)
async def async_echo(job: Job) -> object:
    if job.args.get("sleep"):
        await asyncio.sleep(job.args["sleep"])
    if job.args.get("raise"):
        raise ValueError("async boom")
    return (Atom("ok"), job.args)


@worker("T.Slow", queue=QUEUE, timeout=0.05, registry=REGISTRY)
async def slow(job: Job) -> None:
    await asyncio.sleep(1)


# -- enqueued -----------------------------------------------------------------------------------


def test_assert_enqueued_matches_fields_and_args_subsets(dsn: str) -> None:
    with Client(dsn) as client:
        client.enqueue("MyApp.W", {"id": 1, "config": {"on": True, "n": 2}}, queue="a", priority=3)
        client.enqueue("MyApp.W", {"id": 2}, queue="b", meta={"batch": 7}, schedule_in=60)
        client.enqueue("MyApp.Done", {"id": 3})
        client.cancel_job(client.list_jobs(worker="MyApp.Done")[0].id)  # type: ignore[arg-type]
        job = assert_enqueued(client, worker="MyApp.W", args={"config": {"on": True}})
        assert job.args["id"] == 1
        assert_enqueued(client, queue="a", priority=3)
        assert_enqueued(client, meta={"batch": "_"}, state="scheduled")
        in_a_minute = datetime.now(timezone.utc) + timedelta(seconds=60)
        assert_enqueued(client, args={"id": 2}, scheduled_at=(in_a_minute, 5))
        refute_enqueued(client, args={"id": 2}, scheduled_at=in_a_minute - timedelta(hours=1))
        refute_enqueued(client, worker="MyApp.Done")  # cancelled is not enqueued
        assert [j.args["id"] for j in all_enqueued(client)] == [2, 1]  # newest first
        assert all_enqueued(client, queue="nope") == []


def test_failure_message_shows_what_was_found(dsn: str) -> None:
    with Client(dsn) as client:
        client.enqueue("MyApp.W", {"id": 1})
        with pytest.raises(AssertionError) as info:
            assert_enqueued(client, worker="MyApp.W", args={"id": 2})
        text = str(info.value)
        assert "Expected a job matching:" in text and "'args': {'id': 2}" in text
        assert "Instead found:" in text and "'args': {'id': 1}" in text
        with pytest.raises(AssertionError, match="Expected no jobs matching"):
            refute_enqueued(client, worker="MyApp.W")
        with pytest.raises(ValidationError):
            assert_enqueued(client)  # Oban requires at least one field


def test_the_callers_transaction_is_seen(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        Client(conn).enqueue("MyApp.W", {"id": 1})
        assert_enqueued(conn, worker="MyApp.W")
        refute_enqueued(dsn, worker="MyApp.W")  # not committed: invisible elsewhere
        conn.commit()
        assert_enqueued(dsn, worker="MyApp.W")


def test_async_twins_see_the_callers_transaction(dsn: str) -> None:
    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(dsn) as conn:
            await AsyncClient(conn).enqueue("MyApp.W", {"id": 1, "extra": True})
            job = await assert_enqueued_async(conn, worker="MyApp.W", args={"id": 1})
            assert job.args["extra"] is True
            await refute_enqueued_async(dsn, worker="MyApp.W")  # uncommitted
            with pytest.raises(AssertionError, match="Instead found"):
                await assert_enqueued_async(conn, args={"id": 2})
            await conn.commit()
        async with AsyncClient(dsn) as client:
            assert len(await all_enqueued_async(client, worker="MyApp.W")) == 1
            with pytest.raises(AssertionError, match="Expected no jobs"):
                await refute_enqueued_async(client, args={"id": 1}, timeout=0.05)

    asyncio.run(main())


def test_timeouts_wait_for_a_job_to_appear(dsn: str) -> None:
    def later() -> None:
        time.sleep(0.15)
        with Client(dsn) as other:
            other.enqueue("MyApp.Late", {})

    thread = threading.Thread(target=later)
    thread.start()
    with Client(dsn) as client:
        refute_enqueued(client, worker="MyApp.Late", timeout=0.05)
        assert_enqueued(client, worker="MyApp.Late", timeout=2)
        thread.join()
        started = time.monotonic()
        with pytest.raises(AssertionError, match=r"within 0\.1s"):
            assert_enqueued(client, worker="MyApp.Never", timeout=0.1)
        assert time.monotonic() - started >= 0.1


# -- perform_job -------------------------------------------------------------------------------


def test_perform_job_builds_like_oban() -> None:
    job = build_job(echo, {1: (2, 3)}, priority=2, attempt=4, meta={"k": "v"})
    assert job.args == {"1": [2, 3]} and job.attempt == 4 and job.priority == 2
    assert job.queue == QUEUE and job.meta == {"k": "v"} and job.state is JobState.AVAILABLE
    with pytest.raises(AssertionError, match="registered"):
        perform_job("No.Such.Worker", {})
    with pytest.raises(AssertionError, match="valid job"):
        perform_job(echo, {"x": object()})


@pytest.mark.parametrize(
    ("args", "state", "status"),
    [
        ({}, "completed", "success"),
        ({"kind": "cancel"}, "cancelled", "cancelled"),
        ({"kind": "discard"}, "discarded", "discard"),
        ({"kind": "snooze"}, "scheduled", "snoozed"),
    ],
)
def test_perform_job_outcomes(args: dict[str, str], state: str, status: str) -> None:
    done = perform_job(echo, args)
    assert (done.state, done.status) == (state, status)


def test_perform_job_returns_the_value_and_the_ack() -> None:
    done = perform_job(echo, {"value": [1, 2]})
    assert done.result == [1, 2] and done.ack.error is None
    cancelled = perform_job(echo, {"kind": "cancel"})
    assert cancelled.result == Cancel("stop")
    assert cancelled.error == '** (Oban.PerformError) T.Echo failed with {:cancel, "stop"}'
    recorded = perform_job(async_echo, {"n": 1})  # async, recorded=True
    assert recorded.recorded == (Atom("ok"), {"n": 1})


def test_perform_job_raises_unless_safe() -> None:
    with pytest.raises(KeyError):
        perform_job(echo, {"kind": "raise"})
    with pytest.raises(ValueError, match="async boom"):
        perform_job(async_echo, {"raise": True, "sleep": 0.01})  # raised after an await
    safe = perform_job(echo, {"kind": "raise"}, with_safety=True)
    assert safe.state == "retryable" and isinstance(safe.exception, KeyError)
    assert safe.error is not None and safe.error.startswith("** (KeyError) 'missing'")
    assert "test_testing.py" in safe.error and "bridge/runtime" not in safe.error
    with pytest.raises(TimeoutError, match=r"T\.Slow timed out after 50ms"):
        perform_job(slow, {})
    assert perform_job(slow, {}, with_safety=True, max_attempts=1).state == "discarded"


def test_perform_job_inside_a_running_loop() -> None:
    async def main() -> str:
        return perform_job(async_echo, {"sleep": 0.01}).state.value

    assert asyncio.run(main()) == "completed"


# -- drain_queue -------------------------------------------------------------------------------


def _drain(client: Client, **opts: object) -> dict[str, int]:
    return drain_queue(client, QUEUE, registry=REGISTRY, **opts)  # type: ignore[arg-type]


def test_drain_writes_the_acks(dsn: str) -> None:
    with Client(dsn) as client:
        for kind in ("ok", "cancel", "discard", "snooze", "raise"):
            echo.enqueue({"kind": kind}, client=client)
        client.enqueue("MyApp.ElixirOnly", {}, queue=QUEUE)
        counts = _drain(client)
        assert counts == {"cancelled": 1, "discard": 1, "failure": 1, "snoozed": 1, "success": 1}
        states = {j.args.get("kind"): j.state.value for j in client.list_jobs(worker="T.Echo")}
        assert states == {
            "ok": "completed",
            "cancel": "cancelled",
            "discard": "discarded",
            "snooze": "scheduled",
            "raise": "retryable",
        }
        elixir = client.list_jobs(worker="MyApp.ElixirOnly")[0]
        assert elixir.state is JobState.AVAILABLE  # never claimed: not a Python worker
        failed = client.list_jobs(worker="T.Echo", state="retryable")[0]
        assert failed.attempt == 1 and failed.errors[0]["error"].startswith("** (KeyError)")
        assert failed.attempted_by is not None and len(failed.attempted_by) == 2


def test_drain_with_scheduled_limit_and_safety(dsn: str) -> None:
    with Client(dsn) as client:
        echo.enqueue({}, client=client, schedule_in=3600)
        echo.enqueue({}, client=client, schedule_in=60)
        assert _drain(client)["success"] == 0
        soon = datetime.now(timezone.utc) + timedelta(seconds=120)
        assert _drain(client, with_scheduled=soon)["success"] == 1
        assert _drain(client, with_scheduled=True)["success"] == 1
        for _ in range(3):
            echo.enqueue({}, client=client)
        assert _drain(client, with_limit=2)["success"] == 2
        assert _drain(client, with_limit=1, with_recursion=True)["success"] == 1
        echo.enqueue({"kind": "raise"}, client=client)
        with pytest.raises(KeyError):
            _drain(client, with_safety=False)
        assert client.list_jobs(state="retryable")[0].errors  # the ack was written first
        with pytest.raises(ValidationError):
            _drain(client, with_limit=0)


def test_drain_in_the_callers_transaction(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        echo.enqueue({}, client=Client(conn))
        assert drain_queue(conn, QUEUE, registry=REGISTRY)["success"] == 1
        conn.rollback()
    with Client(dsn) as client:
        assert client.count_jobs() == 0
