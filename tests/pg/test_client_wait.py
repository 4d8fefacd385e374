"""``Client.wait`` / ``AsyncClient.wait``: the finished job and its recorded output."""

from __future__ import annotations

import asyncio
import threading
import time

import psycopg
import pytest

from bridge import AsyncClient, Client, JobNotFound, JobState, WaitTimeout
from bridge.wire.etf import Atom

pytestmark = pytest.mark.pg


def _finish_later(dsn: str, job_id: int, delay: float, value: object = None) -> threading.Thread:
    """Another writer (as an Elixir node would) completes the job after ``delay``."""

    def run() -> None:
        time.sleep(delay)
        with Client(dsn) as other:
            if value is not None:
                other.record(job_id, value)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "UPDATE oban_jobs SET state = 'completed', completed_at = now() WHERE id = %s",
                (job_id,),
            )

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_wait_returns_the_recorded_value(dsn: str) -> None:
    with Client(dsn) as client:
        job = client.enqueue("MyApp.Echo", {"x": 1})
        thread = _finish_later(dsn, job.id, 0.2, {"ok": Atom("done")})  # type: ignore[arg-type]
        started = time.monotonic()
        done = client.wait(job, timeout=5)
        thread.join()
        assert done.state is JobState.COMPLETED and done.recorded
        assert done.value == {"ok": Atom("done")}
        assert 0.2 <= time.monotonic() - started < 1.0


def test_wait_on_a_job_without_recording(dsn: str) -> None:
    with Client(dsn) as client:
        job = client.enqueue("W", {})
        client.cancel_job(job.id)  # type: ignore[arg-type]
        done = client.wait(job.id, timeout=1)  # type: ignore[arg-type]
        assert done.state is JobState.CANCELLED and not done.recorded and done.value is None


def test_wait_times_out_naming_the_last_state(dsn: str) -> None:
    with Client(dsn) as client:
        job = client.enqueue("W", {}, schedule_in=60)
        started = time.monotonic()
        with pytest.raises(WaitTimeout) as info:
            client.wait(job, timeout=0.2)
        assert 0.2 <= time.monotonic() - started < 0.6
        assert (info.value.job_id, info.value.state) == (job.id, "scheduled")
        with pytest.raises(JobNotFound):
            client.wait(10**9, timeout=0.1)


def test_async_wait(dsn: str) -> None:
    async def main() -> None:
        async with AsyncClient(dsn) as client:
            job = await client.enqueue("MyApp.Echo", {})
            thread = _finish_later(dsn, job.id, 0.1, [1, 2])  # type: ignore[arg-type]
            done = await client.wait(job, timeout=5)
            thread.join()
            assert done.value == [1, 2] and done.completed
            other = await client.enqueue("W", {})
            with pytest.raises(WaitTimeout) as info:
                await client.wait(other, timeout=0.1)
            assert info.value.state == "available"

    asyncio.run(main())
